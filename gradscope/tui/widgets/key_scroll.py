"""A pane that scrolls with the arrow keys and nothing else.

The parameter and optimizer views stack their panels at 80×24, below the fold; a user without
a mouse scrolls them with ↑/↓. Only those two keys: ←/→, PgUp/PgDn, Home and End already move
in time on the parameter view, and a scrolling container must not take them.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer


class KeyScroll(ScrollableContainer, can_focus=True, inherit_bindings=False):
    """A scrolling container whose only keys are ↑ and ↓ (shown in the help as "Scroll")."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
    ]
