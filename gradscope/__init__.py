"""gradscope: see what autograd and your optimizer actually did.

import gradscope as gs
with gs.watch(model, optimizer) as scope:
    ...train as usual...
scope.report()

The public names are imported on first use, so that commands which only read a store
(``gradscope report``, ``doctor``, ``tui``, ``export``) start without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradscope.errors import DiagnosisWarning, GradscopeError, GradscopeWarning, StoreError
from gradscope.lazy import lazy_getattr

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gradscope.attach import watch
    from gradscope.gradcheck import check_function
    from gradscope.graph import Graph, capture_graph
    from gradscope.records import Alert
    from gradscope.scope import Scope
    from gradscope.store.reader import Run, open_store

#: public name -> the module that defines it
_LAZY = {
    "check_function": "gradscope.gradcheck",
    "Graph": "gradscope.graph",
    "capture_graph": "gradscope.graph",
    "Alert": "gradscope.records",
    "Scope": "gradscope.scope",
    "Run": "gradscope.store.reader",
    "open_store": "gradscope.store.reader",
    "watch": "gradscope.attach",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "Alert",
    "DiagnosisWarning",
    "GradscopeError",
    "GradscopeWarning",
    "Graph",
    "Run",
    "Scope",
    "StoreError",
    "__version__",
    "capture_graph",
    "check_function",
    "open_store",
    "watch",
]
