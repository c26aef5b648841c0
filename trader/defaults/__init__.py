"""Embedded default configuration (a link to config/default.toml)."""
