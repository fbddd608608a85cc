"""The runner, the thresholds and the small pure helpers the rules share."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import gradscope as gs
from gradscope.doctor import CODES, RULES, Thresholds, diagnose
from gradscope.doctor.context import Context, common_module, median, name_list, rolling_medians
from gradscope.doctor.rules import Rule
from gradscope.doctor.rules.loss_broadcast import broadcast_shape
from gradscope.errors import GradscopeError, GradscopeWarning, StoreError


def rule(code: str, check: Callable[[Context], list[Any]]) -> Rule:
    """A rule module stand-in (rules are modules with ``CODE`` and ``check``)."""
    return SimpleNamespace(CODE=code, check=check)  # type: ignore[return-value]


def test_codes_are_the_spec_table() -> None:
    assert len(CODES) == len(set(CODES)) == 25
    assert CODES[-1] == "loss-stalled"  # runs last: it speaks only when nothing else did
    assert "ddp-desync" in CODES
    assert all(r.__doc__ and len(r.__doc__) > 80 for r in RULES)


def test_a_failing_rule_warns_once_and_the_others_still_run(
    script_stores: dict[str, Path],
) -> None:
    def broken(ctx: Context) -> list[Any]:
        raise ZeroDivisionError("oops")

    rules = [rule("broken", broken), *RULES]
    with gs.open_store(script_stores["grad_not_zeroed_bug"]) as run:
        with pytest.warns(GradscopeWarning, match=r"the broken rule failed \(ZeroDivisionError"):
            alerts = diagnose(run, rules=rules)
        assert [a.code for a in alerts] == ["grad-not-zeroed"]
        with pytest.raises(ZeroDivisionError):
            diagnose(run, rules=rules, strict=True)


def test_store_errors_are_not_swallowed(script_stores: dict[str, Path]) -> None:
    def unreadable(ctx: Context) -> list[Any]:
        raise StoreError("damaged")

    with (
        gs.open_store(script_stores["grad_not_zeroed_bug"]) as run,
        pytest.raises(StoreError, match="damaged"),
    ):
        diagnose(run, rules=[rule("x", unreadable)])


def test_alerts_are_kept_once_per_code_and_place_errors_first(
    script_stores: dict[str, Path],
) -> None:
    def twice(ctx: Context) -> list[Any]:
        return [
            gs.Alert("x", "warning", "a", 3, "first"),
            gs.Alert("x", "warning", "a", 1, "again"),
            gs.Alert("x", "error", "b", 5, "worse"),
            gs.Alert("x", "info", "c", 0, "fyi"),
        ]

    with gs.open_store(script_stores["grad_not_zeroed_fixed"]) as run:
        alerts = diagnose(run, rules=[rule("x", twice)])
    assert [(a.where, a.message) for a in alerts] == [
        ("b", "worse"), ("a", "first"), ("c", "fyi")
    ]  # fmt: skip


def test_thresholds_change_the_verdict(script_stores: dict[str, Path]) -> None:
    with gs.open_store(script_stores["loss_stalled_fixed"]) as run:
        assert diagnose(run) == []
        strict = Thresholds(stall_change=0.5)
        assert [a.code for a in diagnose(run, strict)] == ["loss-stalled"]


def test_a_flat_loss_is_judged_after_a_long_enough_push(
    script_stores: dict[str, Path],
) -> None:
    with gs.open_store(script_stores["loss_stalled_bug"]) as run:  # 120 steps, SGD lr 0.05
        (alert,) = diagnose(run)
        assert (alert.code, alert.severity) == ("loss-stalled", "warning")
        assert alert.details["travel"] > 0.2
        for short in (Thresholds(stall_travel=5), Thresholds(stall_long_steps=200)):
            (early,) = diagnose(run, short)
            assert (early.code, early.severity) == ("loss-stalled", "info")
            assert "too early to tell" in early.message


def test_thresholds_replace_and_parse() -> None:
    t = Thresholds().replace(explode_growth=1e4, window=5)
    assert (t.explode_growth, t.window, type(t.window)) == (1e4, 5, int)
    assert Thresholds.parse(["vanish_ratio=1e-5"]).vanish_ratio == 1e-5
    with pytest.raises(GradscopeError, match="unknown threshold 'nope'; known thresholds: "):
        Thresholds().replace(nope=1)
    with pytest.raises(GradscopeError, match="must be a non-negative number"):
        Thresholds().replace(window=-1)
    with pytest.raises(GradscopeError, match="NAME=VALUE, such as explode_growth=1e4; got 'x'"):
        Thresholds.parse(["x"])


def test_every_threshold_is_documented() -> None:
    doc = Thresholds.__doc__ or ""
    page = (Path(__file__).parents[2] / "docs" / "doctor" / "thresholds.md").read_text()
    for name in Thresholds.__dataclass_fields__:
        assert f"``{name}``" in doc, name
        assert f"`{name}`" in page, name


def test_every_code_has_a_documentation_page_listed_in_the_index() -> None:
    docs = Path(__file__).parents[2] / "docs" / "doctor"
    index = (docs / "index.md").read_text()
    for code in CODES:
        page = (docs / f"{code}.md").read_text()
        assert page.startswith(f"# `{code}`"), code
        assert "## Minimal reproducer" in page and "## Fix" in page, code
        assert f"({code}.md)" in index, code


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [([4, 1], [4], [4, 4]), ([3], [3], [3]), ([], [2, 3], [2, 3]), ([2], [3], None),
     ([5, 1, 3], [4, 1], [5, 4, 3])],
)  # fmt: skip
def test_broadcast_shape(a: list[int], b: list[int], expected: list[int] | None) -> None:
    assert broadcast_shape(a, b) == expected


def test_small_helpers() -> None:
    assert common_module(["enc.a.b", "enc.a.c", "enc.a"]) == "enc.a"
    assert common_module(["enc", "dec"]) == "" and common_module([]) == ""
    assert median([3.0, math.nan, 1.0, 2.0]) == 2.0 and math.isnan(median([math.inf]))
    assert rolling_medians([1.0, 9.0, 2.0, 8.0], 3) == [2.0, 8.0]
    assert rolling_medians([1.0, 2.0], 3) == [1.5] and rolling_medians([], 3) == []
    assert name_list(list("abcdef"), limit=2) == "`a`, `b` and 4 more"
