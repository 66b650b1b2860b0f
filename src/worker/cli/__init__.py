"""The Typer CLI: the only package that imports rich."""
