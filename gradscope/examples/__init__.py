"""Built-in example models and synthetic tasks, used by ``gradscope demo`` and the demos."""

from __future__ import annotations

from gradscope.errors import GradscopeError
from gradscope.examples.tasks import EXAMPLES, Example, train_step

__all__ = ["EXAMPLES", "Example", "get_example", "train_step"]


def get_example(name: str) -> Example:
    """Return the example called ``name``, with an error that lists the valid names."""
    try:
        return EXAMPLES[name]
    except KeyError:
        choices = ", ".join(EXAMPLES)
        raise GradscopeError(f"unknown example {name!r}; choose one of: {choices}") from None
