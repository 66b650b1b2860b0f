"""``python -m worker`` runs the CLI."""

from worker.cli.app import main

if __name__ == "__main__":
    main()
