"""Every view writes numbers through gradscope.numbers: each shape pinned, and the views use it."""

from __future__ import annotations

import math
import subprocess
import sys

from gradscope import numbers
from gradscope.doctor.context import fmt as doctor_fmt
from gradscope.render.details import detail_text
from gradscope.render.report import fmt as report_fmt

NAN, INF = math.nan, math.inf


def test_compact_is_the_reports_and_the_doctors() -> None:
    assert report_fmt is numbers.compact and doctor_fmt is numbers.compact
    got = [numbers.compact(v) for v in (0.000123456, 12345.6, 3, NAN, -INF, None)]
    assert got == ["0.000123", "1.23e+04", "3", "nan", "-inf", "–"]
    assert numbers.compact(1234567, ",") == "1,234,567"


def test_fixed_fits_a_table_column() -> None:
    values = (1.23456e-4, 0.5, 1234.5, 12345.0, 0.0, 7, True, NAN, INF, -INF, None, "x")
    got = [numbers.fixed(v) for v in values]
    assert got == [
        "1.23e-04", "0.5", "1234", "1.23e+04", "0", "7", "True", "nan", "inf", "-inf", "—", "x",
    ]  # fmt: skip
    assert numbers.hparam((0.9, 0.999)) == "(0.9, 0.999)"


def test_eng_and_step_labels_for_axes() -> None:
    got = [numbers.eng(v) for v in (0.25, 150, 6e-5, 1.5e6, -3e-4, 0, NAN, INF, -INF, None)]
    assert got == ["0.25", "150", "6e-5", "1.5e6", "-3e-4", "0", "nan", "inf", "-inf", "—"]
    assert [numbers.step_label(v) for v in (150, 2500, 20_000, 1_500_000)] == [
        "150", "2500", "20k", "1.5M",
    ]  # fmt: skip


def test_counts_and_details() -> None:
    assert [numbers.param_count(n) for n in (381, 12_345, 7_100_000, 1.2e9, None)] == [
        "381", "12.3K", "7.1M", "1.2B", "?",
    ]  # fmt: skip
    assert [numbers.detail(v) for v in (2.0, 0.012345, 123456.0, 1.5e6, 1e-5)] == [
        "2", "0.01235", "123456", "1.5e+06", "1e-05",
    ]  # fmt: skip
    assert detail_text(0.012345) == numbers.detail(0.012345)


def test_imports_no_view_library() -> None:
    code = (
        "import sys, gradscope.numbers;print([m for m in ('rich', 'textual') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
