"""The dialogue: what the agent answers and does (``policy``), what it knows of a
debtor (``context``), and how its answers read in each language (``replies``)."""
