"""Trakt ingestion: resilient client, schema contracts, append-only bronze lake, checkpoints."""

__all__ = ["__version__"]
__version__ = "0.1.0"
