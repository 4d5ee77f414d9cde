"""Which evidence files are accepted: the extension and the file's first bytes must agree.

Pure. A file is accepted only when its extension is allowed *and* its content starts the way
that type does (magic bytes), so a renamed executable or HTML page is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from microcred.assessment.errors import EvidenceRejected, EvidenceTooLarge

#: Per file; below the web server's request limit (2 MB by default) with room for the form.
MAX_EVIDENCE_FILE_BYTES = 1_500_000
MAX_FILES_PER_SUBMISSION = 5


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    label: str


_ZIP = b"PK\x03\x04"
ALLOWED: dict[str, FileType] = {
    ext: FileType(ext, content_type, label)
    for ext, content_type, label in (
        ("pdf", "application/pdf", "PDF"),
        ("png", "image/png", "PNG image"),
        ("jpg", "image/jpeg", "JPEG image"),
        ("jpeg", "image/jpeg", "JPEG image"),
        ("gif", "image/gif", "GIF image"),
        ("webp", "image/webp", "WebP image"),
        ("txt", "text/plain", "plain text"),
        ("md", "text/markdown", "Markdown text"),
        ("csv", "text/csv", "CSV"),
        ("zip", "application/zip", "ZIP archive"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "Word document"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "Excel workbook"),
        ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
         "PowerPoint presentation"),
        ("odt", "application/vnd.oasis.opendocument.text", "OpenDocument text"),
    )
}  # fmt: skip
TEXT_EXTENSIONS = {"txt", "md", "csv"}
ZIP_EXTENSIONS = {"zip", "docx", "xlsx", "pptx", "odt"}


def sniff(data: bytes) -> str | None:
    """The family the content belongs to, from its first bytes: pdf, png, jpeg … or text."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(_ZIP):
        return "zip"
    if b"\x00" not in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        head = text.lstrip()[:100].lower()
        if head.startswith(("<!doctype html", "<html", "<script", "<svg", "<?xml")):
            return None
        return "text"
    return None


def _family(extension: str) -> str:
    if extension in TEXT_EXTENSIONS:
        return "text"
    if extension in ZIP_EXTENSIONS:
        return "zip"
    return "jpeg" if extension == "jpg" else extension


def check_evidence_file(
    filename: str, data: bytes, max_bytes: int = MAX_EVIDENCE_FILE_BYTES
) -> FileType:
    """The file's type, or a refusal naming the file and what is wrong."""
    name = PurePath(filename.replace("\\", "/")).name
    if not data:
        raise EvidenceRejected(f"'{name}' is empty.", field="files")
    if len(data) > max_bytes:
        raise EvidenceTooLarge(
            f"'{name}' is {len(data):,} bytes; files may be at most {max_bytes:,} bytes.",
            field="files",
        )
    extension = PurePath(name).suffix.lower().lstrip(".")
    file_type = ALLOWED.get(extension)
    if file_type is None:
        allowed = ", ".join(sorted(ALLOWED))
        raise EvidenceRejected(
            f"'{name}': .{extension or '(none)'} files are not accepted; use one of {allowed}.",
            field="files",
        )
    if sniff(data) != _family(extension):
        raise EvidenceRejected(
            f"'{name}' does not contain a {file_type.label} (its content does not match its "
            "extension).",
            field="files",
        )
    return file_type


def safe_display_name(filename: str) -> str:
    """The name as shown and offered on download: no path, no control characters."""
    name = PurePath(filename.replace("\\", "/")).name
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>;')
    return cleaned[:200] or "evidence"
