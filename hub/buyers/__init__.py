"""The buyer's window: the status link, the actions on it, and its settings."""
