"""Channels: one inbound message shape, one outbound contract (email, Telegram, web chat)."""
