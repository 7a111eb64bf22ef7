"""notices: traffic and site notices published on time to feeds and email."""

__version__ = "0.1.0"
