"""Truce: a Telegram bot that turns the Marketing vs Sales feud into a shared game."""
