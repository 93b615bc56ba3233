"""apprentice: consent-first recording of computer use for agent training data."""

__version__ = "0.1.0"
