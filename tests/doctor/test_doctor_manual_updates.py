"""``grad-not-zeroed`` with no optimizer: the script updates the leaves itself.

``tests/fixtures/doctor/grad_not_zeroed_manual_{bug,fixed}.py`` are the tutorials' first
regression on bare tensors, without and with the reset of ``.grad`` after each update.
"""

from __future__ import annotations

from pathlib import Path

from doctor_helpers import doctor_json


def test_manual_update_without_reset_is_grad_not_zeroed(script_stores: dict[str, Path]) -> None:
    alerts = doctor_json(script_stores["grad_not_zeroed_manual_bug"])
    found = [a for a in alerts if a["code"] == "grad-not-zeroed"]
    assert len(found) == 1, alerts
    assert found[0]["where"] == "w" and found[0]["step"] == 1
    assert found[0]["severity"] == "error"
    assert "`w.grad.zero_()`" in found[0]["message"]
    assert [a["code"] for a in alerts if a["severity"] != "info"] == ["grad-not-zeroed"]


def test_manual_update_with_reset_is_clean(script_stores: dict[str, Path]) -> None:
    assert doctor_json(script_stores["grad_not_zeroed_manual_fixed"]) == []
