"""Baking: embedding a credential in a badge image and extracting it again (OB 3.0 §5.3).

* PNG: one ``iTXt`` chunk with keyword ``openbadgecredential`` whose text is the credential JSON
  or its compact JWT. Extraction also reads ``tEXt``/``zTXt`` forms and the OB 2.0 ``openbadges``
  keyword.
* SVG: an ``<openbadges:credential>`` element (namespace ``https://purl.imsglobal.org/ob/v3p0``)
  right inside the root, holding JSON in CDATA, or a JWT in its ``verify`` attribute.
* PDF (read only): an embedded file attachment (:mod:`microcred.credentials.pdf_embedded`).
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import Literal
from xml.etree import ElementTree

from microcred.credentials.errors import CredentialError
from microcred.credentials.pdf_embedded import extract_pdf, is_pdf
from microcred.credentials.proofs.jwt import looks_like_jwt

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
OB2_PNG_KEYWORD = b"openbadges"
SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
OB2_SVG_NAMESPACE = "http://openbadges.org"
_MAX_TEXT_BYTES = 8 * 1024 * 1024

ImageKind = Literal["png", "svg", "pdf"]


@dataclass(frozen=True)
class BakedCredential:
    """What was found in an image: the credential's text (JSON or compact JWT)."""

    text: str
    image_kind: ImageKind
    ob_version: Literal["3.0", "2.0"]


def image_kind(data: bytes) -> ImageKind | None:
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if is_pdf(data):
        return "pdf"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg", b"<!--")) and b"<svg" in data[:65536]:
        return "svg"
    return None


# --- PNG -------------------------------------------------------------------------------------


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if not data.startswith(PNG_SIGNATURE):
        raise CredentialError("Not a PNG image")
    chunks = []
    position = len(PNG_SIGNATURE)
    while position < len(data):
        if position + 8 > len(data):
            raise CredentialError("Truncated PNG chunk header")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > len(data):
            raise CredentialError("Truncated PNG chunk")
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise CredentialError(f"Corrupt PNG chunk {kind.decode('latin-1')!r} (CRC mismatch)")
        chunks.append((kind, body))
        position = end
        if kind == b"IEND":
            break
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        raise CredentialError("Malformed PNG (IHDR or IEND missing)")
    return chunks


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", len(body), kind) + body + struct.pack(">I", zlib.crc32(kind + body))


def _inflate(data: bytes) -> bytes:
    decompressor = zlib.decompressobj()
    try:
        text = decompressor.decompress(data, _MAX_TEXT_BYTES)
    except zlib.error as error:
        raise CredentialError("Corrupt compressed text chunk in the PNG") from error
    if decompressor.unconsumed_tail:
        raise CredentialError("The baked credential is too large")
    return text


def _text_chunk(kind: bytes, body: bytes) -> tuple[bytes, str] | None:
    """(keyword, text) of a tEXt / zTXt / iTXt chunk."""
    keyword, separator, rest = body.partition(b"\0")
    if not separator:
        return None
    if kind == b"tEXt":
        return keyword, rest.decode("latin-1")
    if kind == b"zTXt":
        return keyword, _inflate(rest[1:]).decode("latin-1")
    if kind == b"iTXt" and len(rest) >= 2:
        compressed, fields = rest[0], rest[2:]
        _language, _, fields = fields.partition(b"\0")
        _translated, _, text = fields.partition(b"\0")
        raw = _inflate(text) if compressed else text
        try:
            return keyword, raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CredentialError("The baked credential is not UTF-8 text") from error
    return None


def bake_png(image: bytes, credential_text: str) -> bytes:
    """The PNG with exactly one ``openbadgecredential`` iTXt chunk holding ``credential_text``."""
    chunks = [
        (kind, body)
        for kind, body in _chunks(image)
        if not (kind in {b"iTXt", b"tEXt", b"zTXt"} and body.split(b"\0", 1)[0] == PNG_KEYWORD)
    ]
    itxt = PNG_KEYWORD + b"\0\0\0\0\0" + credential_text.encode("utf-8")
    chunks.insert(len(chunks) - 1, (b"iTXt", itxt))
    return PNG_SIGNATURE + b"".join(_chunk(kind, body) for kind, body in chunks)


def extract_png(image: bytes) -> BakedCredential:
    found: BakedCredential | None = None
    for kind, body in _chunks(image):
        if kind not in {b"iTXt", b"tEXt", b"zTXt"}:
            continue
        parsed = _text_chunk(kind, body)
        if parsed is None:
            continue
        keyword, text = parsed
        if keyword == PNG_KEYWORD:
            if found is not None and found.ob_version == "3.0":
                raise CredentialError("The PNG holds more than one baked credential")
            found = BakedCredential(text.strip(), "png", "3.0")
        elif keyword == OB2_PNG_KEYWORD and found is None:
            found = BakedCredential(text.strip(), "png", "2.0")
    if found is None:
        raise CredentialError("The PNG holds no baked credential (no openbadgecredential chunk)")
    return found


# --- SVG -------------------------------------------------------------------------------------

_FORBIDDEN_SVG = re.compile(rb"<!ENTITY", re.IGNORECASE)


def _parse_svg(image: bytes) -> ElementTree.Element:
    if _FORBIDDEN_SVG.search(image):
        raise CredentialError("SVG entity declarations are not accepted")
    try:
        root = ElementTree.fromstring(image)
    except ElementTree.ParseError as error:
        raise CredentialError(f"The SVG is not well-formed XML: {error}") from error
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        raise CredentialError("Not an SVG image")
    return root


def _escape_cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


def bake_svg(image: bytes, credential_text: str) -> bytes:
    """The SVG with one ``openbadges:credential`` element first inside its root."""
    _parse_svg(image)
    try:
        text = image.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CredentialError("Only UTF-8 SVG images can be baked", field="image") from error
    text = re.sub(
        r"\s*<openbadges:credential\b.*?(?:/>|</openbadges:credential>)", "", text, flags=re.DOTALL
    )
    match = re.search(r"<svg\b[^>]*>", text)
    if match is None:
        raise CredentialError("Not an SVG image")
    opening = match.group()
    if "xmlns:openbadges=" not in opening:
        end = -2 if opening.endswith("/>") else -1
        opening = f'{opening[:end]} xmlns:openbadges="{SVG_NAMESPACE}"{opening[end:]}'
    if looks_like_jwt(credential_text):
        element = f'<openbadges:credential verify="{credential_text.strip()}"/>'
    else:
        element = (
            f"<openbadges:credential><![CDATA[{_escape_cdata(credential_text)}]]>"
            "</openbadges:credential>"
        )
    baked = text[: match.start()] + opening + "\n  " + element + text[match.end() :]
    return baked.encode("utf-8")


def extract_svg(image: bytes) -> BakedCredential:
    root = _parse_svg(image)
    for namespace, tag, version in (
        (SVG_NAMESPACE, "credential", "3.0"),
        (OB2_SVG_NAMESPACE, "assertion", "2.0"),
    ):
        elements = root.findall(f".//{{{namespace}}}{tag}")
        if len(elements) > 1:
            raise CredentialError("The SVG holds more than one baked credential")
        if elements:
            element = elements[0]
            text = element.get("verify") or (element.text or "")
            if not text.strip():
                raise CredentialError("The SVG's credential element is empty")
            return BakedCredential(text.strip(), "svg", version)  # type: ignore[arg-type]
    raise CredentialError("The SVG holds no baked credential (no openbadges:credential)")


def bake(image: bytes, credential_text: str) -> bytes:
    kind = image_kind(image)
    if kind == "png":
        return bake_png(image, credential_text)
    if kind == "svg":
        return bake_svg(image, credential_text)
    raise CredentialError("Only PNG and SVG images can be baked", field="image")


def extract(image: bytes) -> BakedCredential:
    kind = image_kind(image)
    if kind == "png":
        return extract_png(image)
    if kind == "svg":
        return extract_svg(image)
    if kind == "pdf":
        return BakedCredential(extract_pdf(image), "pdf", "3.0")
    raise CredentialError("Not a PNG or SVG image or a PDF")
