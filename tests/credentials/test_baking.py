from __future__ import annotations

import json
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.baking import bake, extract
from microcred.credentials.errors import CredentialError
from tests.credentials.vectors import VECTORS, need_standards

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>'
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJ2YyI6e319.c2lnbmF0dXJl"


def tiny_png(extra_chunks: bytes = b"") -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + extra_chunks
        + chunk(b"IEND", b"")
    )


def validator_file(name: str) -> bytes:
    need_standards()
    return (VECTORS / "ob3-validator" / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "starts_with"),
    [
        ("simple-json.png", "{"),
        ("simple-json.svg", "{"),
        ("simple-jwt.png", "eyJ"),
        ("simple-jwt.svg", "eyJ"),
    ],
)
def test_1edtech_baked_images_yield_their_credential(name: str, starts_with: str) -> None:
    baked = extract(validator_file(name))
    assert baked.text.startswith(starts_with)
    assert baked.ob_version == "3.0"
    if starts_with == "{":
        assert json.loads(baked.text)["type"][1] == "OpenBadgeCredential"


@settings(deadline=None)
@given(st.text(min_size=1).filter(lambda text: text.strip() == text))
def test_png_round_trip_of_any_text(text: str) -> None:
    assert extract(bake(tiny_png(), text)).text == text


@pytest.mark.parametrize("credential", ['{"a": "]]> tricky"}', JWT])
def test_svg_round_trip_of_json_and_jwt(credential: str) -> None:
    baked = bake(SVG, credential)
    assert extract(baked).text == credential
    if credential == JWT:
        assert f'verify="{JWT}"'.encode() in baked


def test_rebaking_replaces_the_previous_credential() -> None:
    png = bake(bake(tiny_png(), "first"), "second")
    assert extract(png).text == "second"
    svg = bake(bake(SVG, "{}"), '{"b": 1}')
    assert extract(svg).text == '{"b": 1}'


def test_compressed_itxt_ztxt_and_ob2_forms_are_read() -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    compressed = b"openbadgecredential\x00\x01\x00\x00\x00" + zlib.compress(b'{"x": 1}')
    assert extract(tiny_png(chunk(b"iTXt", compressed))).text == '{"x": 1}'
    ztxt = b"openbadges\x00\x00" + zlib.compress(b"https://example.org/assertion")
    legacy = extract(tiny_png(chunk(b"zTXt", ztxt)))
    assert legacy.ob_version == "2.0" and legacy.text == "https://example.org/assertion"


def test_images_without_credentials_or_broken_images_fail_cleanly() -> None:
    with pytest.raises(CredentialError, match="no baked credential"):
        extract(tiny_png())
    with pytest.raises(CredentialError, match="no baked credential"):
        extract(SVG)
    with pytest.raises(CredentialError, match=r"Truncated|CRC"):
        extract(bake(tiny_png(), "x")[:-20])
    with pytest.raises(CredentialError, match="entity"):
        extract(
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>'
        )
    with pytest.raises(CredentialError, match="PNG or SVG"):
        extract(b"GIF89a")
