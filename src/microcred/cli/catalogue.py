"""Catalogue commands."""

from __future__ import annotations

import typer


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add this capability's commands to the main app and the import group."""
