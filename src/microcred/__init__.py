"""microcred: an open, self-hostable micro-credential platform."""

__version__ = "0.1.0"
