"""Text from a store is data, never markup or terminal control: one place that makes it safe.

Module and parameter names, optimizer class names, hyperparameter keys, script paths and
diagnosis messages all come from the user's code, and a name may hold anything ``add_module``
accepts: ``[bold]`` (rich and Textual markup), an ESC character (a terminal escape sequence
that recolours or moves the cursor), a carriage return (which overwrites the line). Every view
shows such text through :func:`visible`, which spells each control character the way Python's
``repr`` does (``\\x1b``, ``\\r``), and builds rich ``Text`` from it (or calls
:func:`escape_markup` where a markup string cannot be avoided), so the user reads the name as
their code spelled it. Pure Python: the report, the doctor, the dashboard and the export use it.
"""

from __future__ import annotations

import itertools
import re
from typing import TypeVar

T = TypeVar("T")

__all__ = ["escape_markup", "has_control", "visible", "visible_text"]

#: C0 controls, DEL, C1 controls; bidirectional overrides and isolates (they reorder what
#: follows on the line); the Unicode line and paragraph separators (they break lines).
_OTHER = "\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHER}]")
#: The same but newline and tab, which a paragraph of text may hold.
_MULTILINE = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER}]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _spell(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object, *, multiline: bool = False) -> str:
    """``text`` with every control character spelled out (``"\\x1b[31m"`` for ESC ``[31m``).

    ``multiline`` keeps newlines and tabs (a diagnosis message's paragraphs); a name, a
    path or a table cell is one line, so they are spelled out there too.
    """
    s = str(text)
    pattern = _MULTILINE if multiline else _UNSAFE
    return s if pattern.search(s) is None else pattern.sub(_spell, s)


def has_control(text: str) -> bool:
    """Whether :func:`visible` would change ``text``."""
    return _UNSAFE.search(text) is not None


def visible_text(text: T) -> T:
    """A rich ``Text`` with :func:`visible` applied to its characters, its styles kept.

    For text a view assembles from many pieces (a detail pane): one call where it is shown
    instead of one per piece. Newlines and tabs stay. Duck-typed, so rich is not imported.
    """
    plain: str = text.plain  # type: ignore[attr-defined]
    if _MULTILINE.search(plain) is None:
        return text
    spans = text.spans  # type: ignore[attr-defined]
    cuts = sorted({0, len(plain), *(s.start for s in spans), *(s.end for s in spans)})
    out = text.blank_copy()  # type: ignore[attr-defined]
    for start, end in itertools.pairwise(cuts):
        piece = visible(plain[start:end], multiline=True)
        at = len(out.plain)
        out.append(piece)
        for span in spans:
            if span.start <= start and end <= span.end:
                out.stylize(span.style, at, at + len(piece))
    return out  # type: ignore[no-any-return]


def escape_markup(text: object, *, multiline: bool = False) -> str:
    """:func:`visible` text escaped for rich/Textual markup, for an API that only takes markup.

    Prefer a ``rich.text.Text`` built from :func:`visible` (never parsed); rich is imported
    only when this is called.
    """
    from rich.markup import escape

    return escape(visible(text, multiline=multiline))
