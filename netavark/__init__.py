"""netavark-py: a standard-library-only Python implementation of netavark."""

__version__ = "2.1.0"
