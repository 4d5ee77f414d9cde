"""Autogenerate an Alembic revision from the models: scripts/new-migration.py "message".

Compares the models with a scratch SQLite database upgraded to the current head.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from microcred.db.migrate import alembic_config, upgrade


def main() -> None:
    message = sys.argv[1] if len(sys.argv) > 1 else "schema change"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'scratch.db'}"
        upgrade(url)
        command.revision(alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":
    main()
