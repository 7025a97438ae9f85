"""Escaping untrusted text for HTML, Markdown and links: the first thing done to anything shown."""

from __future__ import annotations

import html
import re
from typing import Any


def escape_html(text: Any) -> str:
    """Text made safe to put inside HTML (quotes included, for attribute values)."""
    return html.escape("" if text is None else str(text), quote=True)


# Every ASCII punctuation character may be backslash-escaped in CommonMark, which makes it literal;
# Streamlit adds its own syntax on top ($…$ maths, :emoji:, :color[…]), also covered by this set.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$^=\"'])")


def escape_markdown(text: Any) -> str:
    """Text that any Markdown renderer shows literally: no links, images, emphasis or raw HTML."""
    text = "" if text is None else str(text)
    # Entities first: '<' and '&' must never open a tag or an entity, in any renderer.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def safe_url(url: Any) -> str:
    """The URL if it is an absolute http(s) address, else '' (a `javascript:` link is never shown)."""
    url = str(url or "").strip()
    return url if re.match(r"https?://[^\s<>\"']+$", url, re.IGNORECASE) else ""
