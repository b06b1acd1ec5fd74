"""Palabre: self-hosted community management for brands."""

__version__ = "0.1.0"
