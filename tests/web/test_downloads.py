"""Download headers for file names people chose: always sendable, the exact name kept."""

from __future__ import annotations

import re
from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from microcred.web.downloads import attachment

# what safe_display_name lets through: printable, no quotes, angle brackets or semicolons
NAMES = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='"<>;'),
    min_size=1,
    max_size=60,
).filter(str.isprintable)


@given(NAMES)
def test_the_header_is_latin_1_and_carries_the_exact_name(name: str) -> None:
    header = attachment(name)
    header.encode("latin-1")  # what Starlette sends; it raised for 履歴書.pdf before
    assert header.isascii() or header == f'attachment; filename="{name}"'
    fallback = re.match(r'attachment; filename="([^"]*)"', header)
    assert fallback is not None and fallback.group(1).isprintable()
    extended = re.search(r"filename\*=UTF-8''(\S+)$", header)
    if extended is None:
        assert fallback.group(1) == name
    else:
        assert unquote(extended.group(1)) == name


def test_plain_names_stay_plain() -> None:
    assert attachment("report.pdf") == 'attachment; filename="report.pdf"'
    assert attachment("résumé.pdf") == (
        "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    )
