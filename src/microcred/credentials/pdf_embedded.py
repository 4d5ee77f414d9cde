"""Reading a credential embedded in a PDF as a file attachment (our certificates, the EU Digital
Credentials PDFs).

The attachment ``credential.json`` is preferred, else the first ``.jwt``. Only the document's
``/EmbeddedFiles`` name tree is read — no page, no content stream — and its walk is bounded
(depth, nodes, entries), as are the input, the attachment's size and pypdf's own xref recovery,
so a hostile PDF costs little. Anything pypdf cannot read becomes a :class:`CredentialError`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

from microcred.credentials.errors import CredentialError

PDF_SIGNATURE = b"%PDF-"
JSON_NAME = "credential.json"
MAX_PDF_BYTES = 8 * 1024 * 1024
MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024
MAX_TREE_DEPTH = 8
MAX_TREE_NODES = 64
MAX_ATTACHMENTS = 32


def is_pdf(data: bytes) -> bool:
    return data.startswith(PDF_SIGNATURE)


def _resolve(value: Any) -> Any:
    return value.get_object() if hasattr(value, "get_object") else value


def _attachments(root: DictionaryObject) -> Iterator[tuple[str, DictionaryObject]]:
    """(name, file specification) of each entry in the EmbeddedFiles name tree, bounded."""
    names = _resolve(root.get("/Names"))
    tree = _resolve(names.get("/EmbeddedFiles")) if isinstance(names, DictionaryObject) else None
    pending: list[tuple[Any, int]] = [(tree, 0)]
    nodes = entries = 0
    while pending:
        node, depth = pending.pop()
        nodes += 1
        if not isinstance(node, DictionaryObject) or depth > MAX_TREE_DEPTH:
            continue
        if nodes > MAX_TREE_NODES:
            raise CredentialError("The PDF's attachment list is too large")
        leaves = _resolve(node.get("/Names"))
        if isinstance(leaves, ArrayObject):
            for index in range(0, len(leaves) - 1, 2):
                entries += 1
                if entries > MAX_ATTACHMENTS:
                    raise CredentialError("The PDF has too many attachments")
                spec = _resolve(leaves[index + 1])
                if isinstance(spec, DictionaryObject):
                    name = spec.get("/UF") or spec.get("/F") or _resolve(leaves[index])
                    yield str(name), spec
        kids = _resolve(node.get("/Kids"))
        if isinstance(kids, ArrayObject):
            pending.extend((_resolve(kid), depth + 1) for kid in reversed(kids))


def _content(spec: DictionaryObject) -> str:
    files = _resolve(spec.get("/EF"))
    stream = _resolve(files.get("/F")) if isinstance(files, DictionaryObject) else None
    if not isinstance(stream, StreamObject):
        raise CredentialError("The PDF's credential attachment has no content")
    declared = _resolve(stream.get("/Length"))
    if isinstance(declared, int) and declared > MAX_ATTACHMENT_BYTES:
        raise CredentialError("The PDF's credential attachment is too large")
    data = stream.get_data()
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise CredentialError("The PDF's credential attachment is too large")
    try:
        return data.decode("utf-8").lstrip("\ufeff").strip()
    except UnicodeDecodeError as error:
        raise CredentialError("The PDF's credential attachment is not UTF-8 text") from error


def _find(data: bytes) -> str:
    reader = PdfReader(
        io.BytesIO(data), strict=False, root_object_recovery_limit=1000,
        xref_stream_maximum_entries=100_000,
    )  # fmt: skip
    if reader.is_encrypted:
        raise CredentialError("The PDF is encrypted; its attachments cannot be read")
    root = _resolve(reader.trailer.get("/Root"))
    if not isinstance(root, DictionaryObject):
        raise CredentialError("Not a readable PDF (no document catalogue)")
    jwt: DictionaryObject | None = None
    for name, spec in _attachments(root):
        if name == JSON_NAME:
            return _content(spec)
        if jwt is None and name.lower().endswith(".jwt"):
            jwt = spec
    if jwt is None:
        raise CredentialError(f"This PDF carries no credential (no {JSON_NAME} or .jwt attachment)")
    return _content(jwt)


def extract_pdf(data: bytes) -> str:
    """The text (JSON or compact JWT) of the credential embedded in the PDF ``data``."""
    if not is_pdf(data):
        raise CredentialError("Not a PDF")
    if len(data) > MAX_PDF_BYTES:
        raise CredentialError(f"The PDF is larger than {MAX_PDF_BYTES} bytes")
    try:
        return _find(data)
    except CredentialError:
        raise
    except Exception as error:  # pypdf raises anything from PdfReadError to KeyError on bad input
        raise CredentialError(f"Not a readable PDF: {type(error).__name__}") from error
