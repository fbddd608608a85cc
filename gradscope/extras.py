"""Optional parts and the extra that installs each.

A training node needs only capture (torch, rich, click). The dashboard needs textual
(``gradscope[tui]``) and graph images the graphviz package (``gradscope[graph]``);
``gradscope[all]`` has both. A command whose part is missing says which extra to install in one
line instead of failing on an import deep inside.
"""

from __future__ import annotations

import importlib

from gradscope.errors import GradscopeError

#: The extra that installs each optional top-level package.
EXTRAS = {"textual": "tui", "textual_plotext": "tui", "graphviz": "graph"}


def require(*modules: str, what: str) -> None:
    """Raise a one-line :class:`GradscopeError` naming the extra when a module is missing."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            extra = EXTRAS.get(module, "all")
            raise GradscopeError(
                f"{what} needs the {module.replace('_', '-')} package, which is not installed; "
                f"install it with `pip install 'gradscope[{extra}]'`"
            ) from None
