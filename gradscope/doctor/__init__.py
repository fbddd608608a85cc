"""The doctor: diagnoses of the classic training bugs.

    from gradscope.doctor import diagnose, Thresholds
    alerts = diagnose(gs.open_store("runs/x.gsdb"))

Each diagnosis code is one rule module in :mod:`gradscope.doctor.rules`, a small function of
what capture recorded; :func:`diagnose` runs them all over a run (a store being read, or the
scope's run while training). Nothing here touches torch.
"""

from __future__ import annotations

from gradscope.doctor.rules import CODES, RULES
from gradscope.doctor.runner import diagnose, findings
from gradscope.doctor.thresholds import Thresholds

__all__ = ["CODES", "RULES", "Thresholds", "diagnose", "findings"]
