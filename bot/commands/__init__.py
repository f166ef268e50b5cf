"""Sub-commands of ``relance``, one module per area (see ``bot.cli``)."""
