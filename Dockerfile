FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/truce.db

RUN useradd --create-home --uid 10001 truce && mkdir /data && chown truce /data
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY migrations ./migrations
COPY quests ./quests
RUN pip install -e .

USER truce
VOLUME ["/data"]
# Migrations first, then the bot (`truce run` also checks the schema before serving).
CMD ["sh", "-c", "truce db upgrade && truce run"]
