"""``python -m replayer`` entry point."""

from replayer.cli import main

if __name__ == "__main__":
    main()
