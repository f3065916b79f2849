"""listening: social listening and verbatim analysis for e-commerce merchants."""

__version__ = "0.1.0"
