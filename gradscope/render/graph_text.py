"""The autograd graph as a rich tree: from each output back to the leaves, for the terminal.

Names come from the user's code, so every line is a :class:`~rich.text.Text` built from plain
strings (never parsed as console markup: a module named ``[/]`` prints as ``[/]``) with control
characters shown as escapes (an ESC in a name never reaches the terminal). A graph is a DAG, a
tree is not: a node reached a second time is printed once more as a one-line
reference (``↑ AddmmBackward0 n7``) instead of its whole subtree again. Built iteratively, so a
graph thousands of nodes deep is fine; ``max_nodes`` bounds the output on huge graphs.
"""

from __future__ import annotations

import math

from rich.text import Text
from rich.tree import Tree

from gradscope.graph.model import FUNCTION_KINDS, Edge, GraphData, Node
from gradscope.render.dot import node_label, printable, shape_text
from gradscope.render.styles import colour


def _inputs(graph: GraphData) -> dict[str, list[tuple[str, Edge]]]:
    """For each node, what feeds it (flow and view edges, and saved tensors), in slot order."""
    by_id = {n.id: n for n in graph.nodes}
    feeds: dict[str, list[tuple[str, Edge]]] = {}
    for e in graph.edges:
        if e.kind == "saved" and by_id[e.src].kind in FUNCTION_KINDS:
            feeds.setdefault(e.src, []).append((e.dst, e))  # built-in node → its saved tensor
        else:
            feeds.setdefault(e.dst, []).append((e.src, e))
    for items in feeds.values():
        items.sort(key=lambda item: (item[1].kind == "saved", item[1].slot))
    return feeds


def _line(node: Node, edge: Edge | None, graph: GraphData) -> Text:
    label = node_label(node).split("\n")
    text = Text(label[0] or node.kind, style=colour(node.kind))
    if node.kind == "module":
        text.append(f" {label[1]} ({label[2]})", style="dim")
    elif len(label) > 1 and node.shape is not None:
        text.append(" " + " ".join(label[1:]), style="dim")
    elif len(label) > 1:
        text.append(" [" + "; ".join(label[1:]) + "]", style="dim")
    if edge is not None and edge.kind == "saved":
        text = Text(f"saved {printable(edge.name or '')}: ", style="yellow") + text
    elif edge is not None and edge.kind == "view":
        text = Text("view of ", style="dim") + text
    elif edge is not None and edge.shape is not None and node.shape is None:
        text.append(f" → {shape_text(edge.shape)}", style="cyan")
    if node.call is not None and node.kind != "module":
        text.append(f"  · {printable(graph.calls[node.call].title)}", style="dim italic")
    norm = graph.grad_norm(node.id) if graph.heat is not None else None
    if norm is not None:
        style = "bold red" if not math.isfinite(norm) else ("dim" if norm == 0 else "cyan")
        text.append(f"  |g|={norm:.2e}" if norm else "  |g|=0", style=style)
    return text


def graph_tree(graph: GraphData, *, max_nodes: int = 2000, max_depth: int = 60) -> Tree:
    """A rich :class:`~rich.tree.Tree` of the graph (and its break report).

    Each level indents the next, so a chain thousands of ops long is cut at ``max_depth``
    levels (the DOT render shows everything).
    """
    title = f"autograd graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges"
    if graph.depth is not None:
        title += f" (collapsed to depth {graph.depth})"
    tree = Tree(Text(title, style="bold"))
    feeds = _inputs(graph)
    by_id = {n.id: n for n in graph.nodes}
    shown: set[str] = set()
    count = 0
    stack: list[tuple[Tree, str, Edge | None, int]] = [
        (tree, n.id, None, 0) for n in reversed(graph.outputs)
    ]
    while stack:
        parent, node_id, edge, level = stack.pop()
        node = by_id[node_id]
        if level >= max_depth and node_id not in shown:
            parent.add(Text(f"… more upstream of this point (max_depth={max_depth})", style="dim"))
            continue
        if node_id in shown:
            parent.add(Text(f"↑ {node_label(node).split(chr(10))[0]} {node_id}", style="dim"))
            continue
        if count >= max_nodes:
            parent.add(Text(f"… {len(graph.nodes) - count} more nodes not shown", style="dim"))
            break
        shown.add(node_id)
        count += 1
        branch = parent.add(_line(node, edge, graph))
        stack.extend((branch, src, e, level + 1) for src, e in reversed(feeds.get(node_id, [])))
    if graph.breaks:
        broken = tree.add(Text("parameters the output does not reach", style="bold red"))
        for b in graph.breaks:
            line = f"{printable(b.param)}: {b.reason} ({printable(b.detail)})"
            broken.add(Text(line, style="red"))
    for note in graph.notes:
        tree.add(Text(printable(note), style="dim"))
    return tree
