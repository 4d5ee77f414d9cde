"""Markdown to HTML for user-written text (OB 3.0 criteria narratives are Markdown).

Raw HTML in the source is escaped, not passed through, and links keep only http(s) and mailto
targets, so the output is safe to mark as such in a template.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    return Markup(_RENDERER.render(text))
