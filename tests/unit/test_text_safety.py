"""The one helper every view shows store text through: control characters spelled out."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rich.console import Console
from rich.text import Text

from gradscope.text_safety import escape_markup, has_control, visible, visible_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("fc1.weight", "fc1.weight"),
        ("[/]", "[/]"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\rb", "a\\rb"),
        ("tab\there", "tab\\there"),
        ("two\nlines", "two\\nlines"),
        ("nul\x00del\x7fcsi\x9b", "nul\\x00del\\x7fcsi\\x9b"),
        ("bidi\u202eoverride", "bidi\\u202eoverride"),
        ("line\u2028sep", "line\\u2028sep"),
        ("ünïcødé ✓ 层", "ünïcødé ✓ 层"),
    ],
)
def test_visible_spells_control_characters_like_repr(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert has_control(raw) == (raw != shown)


def test_multiline_keeps_newlines_and_tabs_only() -> None:
    assert visible("a\nb\tc\x1bd\re", multiline=True) == "a\nb\tc\\x1bd\\re"


def test_escape_markup_renders_the_literal_text() -> None:
    for raw in ("[/]", "[bold red]x[/bold red]", "\\[b]", "\x1b[1m[link]"):
        console = Console(file=None, width=80, color_system=None)
        with console.capture() as capture:
            console.print(escape_markup(raw), end="")
        assert capture.get() == visible(raw)


def test_visible_text_keeps_styles_and_spells_inside_them() -> None:
    text = Text("loss ", style="bold")
    text.append("a\x1b[31mb", style="red")
    text.append(" end\nnext")
    shown = visible_text(text)
    assert shown.plain == "loss a\\x1b[31mb end\nnext"
    assert shown.style == "bold"
    (span,) = shown.spans
    assert (shown.plain[span.start : span.end], span.style) == ("a\\x1b[31mb", "red")
    untouched = Text("plain")
    assert visible_text(untouched) is untouched


def test_the_helper_imports_no_ui_library() -> None:
    code = (
        "import sys, gradscope.text_safety as t; t.visible('\\x1b');"
        "print(sorted(m for m in ('rich', 'textual', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
