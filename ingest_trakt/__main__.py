"""``python -m ingest_trakt`` entry point."""

from ingest_trakt.cli import main

if __name__ == "__main__":
    main()
