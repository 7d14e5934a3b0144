"""Pure rules of the game: no database, no Telegram."""
