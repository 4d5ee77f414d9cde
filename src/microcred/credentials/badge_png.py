"""The default badge as a PNG (for baking when the issuer uploaded no image), without Pillow.

The same design as the catalogue's SVG: a ring in the issuer's colour around a white disc with
the issuer's initials, drawn in a 5x7 bitmap font and written as an 8-bit RGB PNG.
"""

from __future__ import annotations

import struct
import zlib

from microcred.catalogue.badge_image import initials, issuer_colour

SIZE = 256
_GLYPHS = {  # 5x7, row by row
    "A": "01110100011000111111100011000110001", "B": "11110100011000111110100011000111110",
    "C": "01111100001000010000100001000001111", "D": "11110100011000110001100011000111110",
    "E": "11111100001000011110100001000011111", "F": "11111100001000011110100001000010000",
    "G": "01111100001000010011100011000101111", "H": "10001100011000111111100011000110001",
    "I": "01110001000010000100001000010001110", "J": "00111000100001000010000101001001100",
    "K": "10001100101010011000101001001010001", "L": "10000100001000010000100001000011111",
    "M": "10001110111010110101100011000110001", "N": "10001110011010110011100011000110001",
    "O": "01110100011000110001100011000101110", "P": "11110100011000111110100001000010000",
    "Q": "01110100011000110001101011001001101", "R": "11110100011000111110101001001010001",
    "S": "01111100001000001110000010000111110", "T": "11111001000010000100001000010000100",
    "U": "10001100011000110001100011000101110", "V": "10001100011000110001100010101000100",
    "W": "10001100011000110101101011010101010", "X": "10001100010101000100010101000110001",
    "Y": "10001100010101000100001000010000100", "Z": "11111000010001000100010001000011111",
    "0": "01110100011001110101110011000101110", "1": "00100011000010000100001000010001110",
    "2": "01110100010000100010001000100011111", "3": "11110000010000101110000010000111110",
    "4": "00010001100101010010111110001000010", "5": "11111100001111000001000011000101110",
    "6": "00110010001000011110100011000101110", "7": "11111000010001000100010000100001000",
    "8": "01110100011000101110100011000101110", "9": "01110100011000101111000010001001100",
    "?": "01110100010000100010001000000000100",
}  # fmt: skip
_WHITE = (255, 255, 255)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_png(pixels: list[bytearray], width: int, height: int) -> bytes:
    """An RGB PNG of ``height`` rows of ``width * 3`` bytes."""
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def default_badge_png(issuer_name: str) -> bytes:
    """A 256x256 badge: the issuer's colour ring and initials (the name is in the credential)."""
    colour = _rgb(issuer_colour(issuer_name))
    centre = (SIZE - 1) / 2
    rows = []
    for y in range(SIZE):
        row = bytearray()
        for x in range(SIZE):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            pixel = _WHITE if distance > 124 or distance <= 104 else colour
            row.extend(pixel)
        rows.append(row)
    text = [_GLYPHS.get(character, _GLYPHS["?"]) for character in initials(issuer_name)]
    scale = 8 if len(text) <= 2 else 6
    glyph_width, gap = 5 * scale, scale
    total = len(text) * glyph_width + (len(text) - 1) * gap
    left, top = (SIZE - total) // 2, (SIZE - 7 * scale) // 2
    for position, glyph in enumerate(text):
        origin = left + position * (glyph_width + gap)
        for line in range(7):
            for column, bit in enumerate(glyph[line * 5 : line * 5 + 5]):
                if bit != "1":
                    continue
                for dy in range(scale):
                    y = top + line * scale + dy
                    start = (origin + column * scale) * 3
                    rows[y][start : start + scale * 3] = bytes(colour) * scale
    return encode_png(rows, SIZE, SIZE)
