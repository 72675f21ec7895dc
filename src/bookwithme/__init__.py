"""bookwithme: a self-hostable personal booking page service."""

__version__ = "0.1.0"
