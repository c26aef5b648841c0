"""trader: a live paper-trading daemon for a PyTorch model ensemble on crypto bars."""

__version__ = "0.1.0"
