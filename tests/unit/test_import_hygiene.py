"""The core must not pull in the UI or rendering libraries (one-way data flow)."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_neither_textual_nor_graphviz() -> None:
    code = (
        "import sys, gradscope, gradscope.scope, gradscope.store, gradscope.capture.modules;"
        "import gradscope.render.summary;"
        "print(sorted(m for m in ('textual', 'graphviz', 'rich') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
