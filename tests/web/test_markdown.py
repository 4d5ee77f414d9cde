"""User-written Markdown is rendered without letting HTML or script links through."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from microcred.web.markdown import render_markdown


def test_markdown_renders_emphasis_and_lists() -> None:
    html = render_markdown("**Outcomes**\n\n- one\n- two")
    assert "<strong>Outcomes</strong>" in html
    assert html.count("<li>") == 2


def test_raw_html_and_javascript_links_are_neutralised() -> None:
    html = render_markdown(
        "<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=y>"
    )
    assert "<script>" not in html and "<img" not in html
    assert 'href="javascript:' not in html


@given(st.text(max_size=300))
def test_no_input_produces_a_script_tag(text: str) -> None:
    html = render_markdown(text).lower()
    assert "<script" not in html
    assert 'href="javascript:' not in html
