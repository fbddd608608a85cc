"""Shared fixtures: two intra-op threads (the machine has two cores), a store path per test, and
the gradscope warnings that the warning filters turned into errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from gradscope.capture.guard import flush_warnings

torch.set_num_threads(2)


@pytest.fixture
def tmp_store(tmp_path: Path) -> Path:
    """A fresh ``*.gsdb`` path in the test's temporary folder (the file does not exist yet)."""
    return tmp_path / "run.gsdb"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "gradscope_category"):
            self.records.append(record)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "warnings_as_errors: the test expects gradscope warnings that the filters make errors "
        "(gradscope logs those instead of raising)",
    )


@pytest.fixture(autouse=True)
def gradscope_logged_warnings(request: pytest.FixtureRequest) -> Iterator[list[logging.LogRecord]]:
    """Gradscope warnings that the warning filters turned into errors.

    Gradscope never raises a warning into training: one the filters make an error goes to the
    ``gradscope`` logger instead. The test settings make every ``GradscopeWarning`` an error, so
    an instrument that fails during a test lands here, and the test fails unless it is marked
    ``warnings_as_errors`` (then it gets these records to assert on).
    """
    handler = _Records()
    logger = logging.getLogger("gradscope")
    logger.addHandler(handler)
    try:
        yield handler.records
        flush_warnings()  # what the test queued and left unemitted belongs to this test
    finally:
        logger.removeHandler(handler)
    if handler.records and request.node.get_closest_marker("warnings_as_errors") is None:
        messages = "\n".join(r.getMessage() for r in handler.records)
        pytest.fail(f"gradscope warnings were raised as errors (and logged):\n{messages}")
