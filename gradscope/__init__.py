"""gradscope: see what autograd and your optimizer actually did.

import gradscope as gs
with gs.watch(model, optimizer) as scope:
    ...train as usual...
scope.report()
"""

from __future__ import annotations

__version__ = "0.1.0"

from gradscope.errors import DiagnosisWarning, GradscopeError, GradscopeWarning, StoreError
from gradscope.gradcheck import check_function
from gradscope.graph import Graph, capture_graph
from gradscope.records import Alert
from gradscope.scope import Scope
from gradscope.store.reader import Run, open_store
from gradscope.watch import watch

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
