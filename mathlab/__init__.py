"""mathlab: the helper package behind the numbered notebooks (see README.md)."""

__version__ = "0.1.0"
