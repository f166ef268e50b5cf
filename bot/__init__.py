"""Relance's program: channels, dialogue, the web application and the `relance` command."""
