"""Command-line interface (Typer): one sub-command group per capability."""
