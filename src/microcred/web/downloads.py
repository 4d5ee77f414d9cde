"""The ``Content-Disposition`` of a download whose file name someone else chose.

HTTP headers are Latin-1: a name such as ``履歴書.pdf`` cannot go into ``filename="…"`` as it is
(the server failed with an encoding error). Per RFC 6266 and RFC 8187 the header carries an
ASCII ``filename`` for old clients and the exact name as ``filename*=UTF-8''…``.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def attachment(filename: str) -> str:
    fallback = (
        unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii").strip()
    )
    fallback = "".join(ch for ch in fallback if ch.isprintable() and ch not in '"\\;') or "download"
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
