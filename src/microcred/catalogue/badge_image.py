"""The default badge image: an SVG with the issuer's initials and colour and the name."""

from __future__ import annotations

import hashlib
import textwrap
from html import escape

PALETTE = ("#0b5cad", "#1b7f3b", "#8a3ffc", "#b3261e", "#8a5a00", "#00727a", "#a1387d", "#3d5a80")


def issuer_colour(issuer_name: str) -> str:
    """A stable colour per issuer, so its badges look alike."""
    digest = hashlib.sha256(issuer_name.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:3]).upper() or "?"


def default_badge_svg(name: str, issuer_name: str) -> str:
    colour = issuer_colour(issuer_name)
    lines = textwrap.wrap(name, 18)[:3] or [name]
    first_y = 150 - (len(lines) - 1) * 9
    text = "".join(
        f'<text x="128" y="{first_y + i * 18}" font-size="15" text-anchor="middle" '
        f'fill="#1b2430" font-family="sans-serif">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256" '
        f'role="img" aria-label="{escape(name)} — {escape(issuer_name)}">'
        f"<title>{escape(name)}</title>"
        f'<circle cx="128" cy="128" r="124" fill="{colour}"/>'
        '<circle cx="128" cy="128" r="104" fill="#ffffff"/>'
        f'<text x="128" y="100" font-size="40" font-weight="700" text-anchor="middle" '
        f'fill="{colour}" font-family="sans-serif">{escape(initials(issuer_name))}</text>'
        f"{text}</svg>"
    )
