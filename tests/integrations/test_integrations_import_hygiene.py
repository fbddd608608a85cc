"""The integrations are extras: gradscope and its integrations package import neither trainer."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("lightning", "pytorch_lightning", "transformers", "accelerate")


def test_core_imports_no_trainer_library() -> None:
    code = (
        "import sys, gradscope, gradscope.integrations, gradscope.integrations.attachment\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    assert out.stdout.strip() == "[]"
