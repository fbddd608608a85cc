"""The doctor is a view: importing it pulls in no UI or rendering library."""

from __future__ import annotations

import subprocess
import sys


def test_doctor_imports_neither_rich_nor_textual_nor_graphviz() -> None:
    code = (
        "import sys, gradscope.doctor, gradscope.doctor.cli;"
        "print(sorted(m for m in ('textual', 'graphviz', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
