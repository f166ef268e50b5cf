"""The aiohttp application: health, JSON API, and later chat, portal, webhooks, console."""
