"""The one family of errors and warnings gradscope raises."""

from __future__ import annotations


class GradscopeError(Exception):
    """Bad input or a state gradscope cannot work with; the message says what to do."""


class StoreError(GradscopeError):
    """A file is not a readable gradscope store (missing, foreign, truncated or too new)."""


class InstrumentError(GradscopeError):
    """An instrument failed inside a hook (raised only in strict mode)."""


class GradscopeWarning(UserWarning):
    """Something gradscope noticed about training, or an instrument that switched itself off."""


class DiagnosisWarning(GradscopeWarning):
    """A live diagnosis of the doctor (one per code and place): a training bug, not ours."""
