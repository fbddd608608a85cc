"""Running a snippet in a fresh interpreter (nothing imported yet) and reading its JSON answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def fresh_python(code: str, *args: object, cwd: Path) -> Any:
    """Run ``code`` with ``args`` (JSON-encoded) in a new interpreter; its last stdout line,
    parsed as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", code, *(json.dumps(a) for a in args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
