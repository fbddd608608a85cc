"""A small reader for the DOT text gradscope writes, so tests compare structure, not bytes.

It reads node statements (``id [key=value ...]``) with quoted, HTML-like (``<...>``) and bare
values, and ``{rank=same; a; b}`` groups. Enough for our own output, not a general parser.
"""

from __future__ import annotations

import re

_NODE = re.compile(r"^\s*([A-Za-z_][\w]*) \[(.*)\]\s*$")
_RANK = re.compile(r"^\s*\{rank=same; (.*)\}\s*$")


def _value(text: str, i: int) -> tuple[str, int]:
    """The value starting at ``text[i]`` and the index after it."""
    if text[i] == '"':
        out, i = [], i + 1
        while text[i] != '"':
            if text[i] == "\\":
                nxt = text[i + 1]
                out.append({"n": "\n", '"': '"', "\\": "\\"}.get(nxt, "\\" + nxt))
                i += 2
                continue
            out.append(text[i])
            i += 1
        return "".join(out), i + 1
    if text[i] == "<":
        depth, j = 0, i
        while True:
            if text[j] == "<":
                depth += 1
            elif text[j] == ">":
                depth -= 1
                if depth == 0:
                    return text[i : j + 1], j + 1
            j += 1
    j = i
    while j < len(text) and text[j] != " ":
        j += 1
    return text[i:j], j


def attributes(text: str) -> dict[str, str]:
    """``key=value`` pairs of one attribute list (quoted values unescaped)."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        eq = text.index("=", i)
        key = text[i:eq]
        out[key], i = _value(text, eq + 1)
    return out


def nodes(dot: str) -> dict[str, dict[str, str]]:
    """Node id → its attributes, for every node statement (``graph``/``node``/``edge`` defaults
    left out)."""
    out = {}
    for line in dot.splitlines():
        m = _NODE.match(line)
        if m and m.group(1) not in ("graph", "node", "edge"):
            out[m.group(1)] = attributes(m.group(2))
    return out


def same_rank(dot: str) -> list[set[str]]:
    """The ``{rank=same; ...}`` groups."""
    return [
        set(m.group(1).rstrip("; ").split("; ")) for m in map(_RANK.match, dot.splitlines()) if m
    ]


def graph_attributes(dot: str) -> dict[str, str]:
    """The ``graph [...]`` defaults."""
    for line in dot.splitlines():
        if line.strip().startswith("graph ["):
            return attributes(line.strip()[len("graph [") : -1])
    return {}
