"""gradscope: see what autograd and your optimizer actually did.

import gradscope as gs
with gs.watch(model, optimizer) as scope:
    ...train as usual...
scope.report()
"""

from __future__ import annotations

__version__ = "0.1.0"

from gradscope.errors import GradscopeError, GradscopeWarning, StoreError
from gradscope.records import Alert
from gradscope.scope import Scope
from gradscope.store.reader import Run, open_store
from gradscope.watch import watch

__all__ = [
    "Alert",
    "GradscopeError",
    "GradscopeWarning",
    "Run",
    "Scope",
    "StoreError",
    "__version__",
    "open_store",
    "watch",
]
