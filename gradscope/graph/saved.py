"""What backward functions saved: ``ctx.saved_tensors`` of custom Functions, ``_saved_*`` of
built-in nodes (read like torchviz reads them). Split from the walk, which calls in here only
for custom Functions or when saved tensors or attributes are asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from gradscope.graph.model import Node

SAVED_PREFIX = "_saved_"
MAX_ATTR_CHARS = 50
FREED = "saved tensors were freed by backward(); capture before backward or use retain_graph=True"


def custom_function(
    fn: Any, node: Node, tensor_node: Callable, edge: Callable, notes: list
) -> None:
    """A custom ``autograd.Function``: name its class and draw what ``ctx`` saved (torchviz
    always shows these, with the edge drawn from the tensor to the node)."""
    cls = getattr(fn, "_forward_cls", None)
    node.function = getattr(cls, "__qualname__", None) or node.name.removesuffix("Backward")
    try:
        tensors = fn.saved_tensors
    except RuntimeError:
        notes.append(f"{node.name}: {FREED}")
        return
    for i, t in enumerate(tensors):
        if isinstance(t, torch.Tensor):
            edge(tensor_node(t, "saved", f"ctx.saved_tensors[{i}]"), node, "saved", t, f"[{i}]")


def saved_attrs(
    fn: Any,
    node: Node,
    attr_names: tuple[str, ...],
    *,
    saved: bool,
    attrs: bool,
    tensor_node: Callable,
    edge: Callable,
    notes: list,
) -> None:
    """Read ``_saved_*`` attributes as torchviz does: tensors become saved-tensor nodes (edge
    from the function, ``saved=True``), everything else a scalar attribute (``attrs=True``)."""
    found: list[tuple[str, str]] = []
    for attr in attr_names:
        short = attr[len(SAVED_PREFIX) :]
        try:
            val = getattr(fn, attr)
        except RuntimeError:
            found.append((short, "[freed]"))
            continue
        if isinstance(val, torch.Tensor):
            if saved:
                edge(node, tensor_node(val, "saved", short), "saved", val, short)
            if attrs:
                found.append((short, describe(val)))
        elif isinstance(val, tuple) and any(isinstance(t, torch.Tensor) for t in val):
            for i, t in enumerate(val):
                if isinstance(t, torch.Tensor) and saved:
                    edge(node, tensor_node(t, "saved", f"{short}[{i}]"), "saved", t, short)
            if attrs:
                found.append((short, ", ".join(describe(t) for t in val)))
        elif attrs:
            text = str(val)
            if len(text) > MAX_ATTR_CHARS:
                text = text[: MAX_ATTR_CHARS - 3] + "..."
            found.append((short, text))
    if attrs and found:
        node.attrs = tuple(found)
    if any(v == "[freed]" for _, v in found):
        notes.append(f"{node.name}: {FREED}")


def describe(t: Any) -> str:
    """``(3, 4) float32`` for a tensor, ``str()`` for anything else."""
    if not isinstance(t, torch.Tensor):
        return str(t)
    return f"{tuple(t.shape)} {str(t.dtype).removeprefix('torch.')}"
