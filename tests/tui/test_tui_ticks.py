"""Axis ticks, engineering numbers and the markers of non-finite values (no terminal)."""

from __future__ import annotations

import math

import pytest

from gradscope.numbers import eng, step_label
from gradscope.render.details import detail_lines
from gradscope.tui.viewmodel import ticks


@pytest.mark.parametrize(
    ("lo", "hi", "integer", "expected"),
    [
        (0, 199, True, [0, 50, 100, 150]),  # never "0 50 100 149 199"
        (0, 149, True, [0, 50, 100]),
        (0, 3, True, [0, 1, 2, 3]),  # steps are whole numbers
        (0, 996, True, [0, 200, 400, 600, 800]),
        (1.74, 2.1, False, [1.8, 1.9, 2.0, 2.1]),
        (0.00125, 0.01, False, [0.002, 0.004, 0.006, 0.008, 0.01]),
        (5, 5, True, [5]),
    ],
)
def test_nice_ticks_fall_on_1_2_5_steps(lo, hi, integer, expected) -> None:
    assert ticks.nice_ticks(lo, hi, integer=integer) == pytest.approx(expected)


def test_nice_ticks_of_non_finite_bounds_are_none() -> None:
    assert ticks.nice_ticks(math.nan, 1.0) == []
    assert ticks.nice_ticks(0.0, math.inf) == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (6e-5, "6e-5"),  # not 0.00006
        (0.25, "0.25"),
        (150.0, "150"),
        (1234.5, "1234"),
        (1.5e6, "1.5e6"),
        (-3e-4, "-3e-4"),
        (0.0, "0"),
        (math.nan, "nan"),
        (-math.inf, "-inf"),
        (None, "—"),
    ],
)
def test_engineering_numbers(value, text) -> None:
    assert eng(value) == text


def test_log_ticks_are_decades_or_1_2_5_mantissas() -> None:
    assert ticks.log_ticks(-5.2, -1.1) == [-5.0, -4.0, -3.0, -2.0]
    short = [eng(10**t) for t in ticks.log_ticks(math.log10(3.9e-4), math.log10(7.9e-4))]
    assert short == ["4e-4", "5e-4", "6e-4", "7e-4"]


def test_step_labels_shorten_large_steps() -> None:
    assert [step_label(v) for v in (150, 2500, 20_000, 1_500_000)] == [
        "150",
        "2500",
        "20k",
        "1.5M",
    ]


def test_kinds_and_markers() -> None:
    values = [1.0, math.nan, math.inf, -math.inf, None, 2]
    assert ticks.finite(values) == [1.0, 2.0]
    assert ticks.count_kinds(values) == {"nan": 1, "+inf": 1, "-inf": 1, "missing": 1}
    assert ticks.describe_kinds(ticks.count_kinds(values), missing=False) == (
        "✗ nan ×1  ▲ +inf ×1  ▼ -inf ×1"
    )


def test_alert_details_read_as_words() -> None:
    details = {
        "params": [f"{i}.weight" for i in range(9)],
        "ratio": 1e4,
        "first_step": 150,
        "kinds": {"nan": 3, "inf": 1.5},
        "value": math.nan,
        "from_sigmoid": True,
        "grad_fn": None,
    }
    assert detail_lines(details) == [
        ("params", "0.weight, 1.weight, 2.weight, 3.weight, 4.weight, 5.weight … and 3 more"),
        ("ratio", "10000"),
        ("first step", "150"),
        ("kinds", "nan=3, inf=1.5"),
        ("value", "nan"),
        ("from sigmoid", "yes"),
        ("grad fn", "—"),
    ]
