"""A store in the documented layout, written straight into SQLite with ``executemany``.

What a ``gs.watch`` run of that length would leave, without training for hours: per step a
``steps`` row, one ``param_stats`` row per parameter and one ``group_stats`` row per group;
optimizer state and histograms every ``sparse_every`` steps. The numbers are exact functions of
the step and the parameter (no clock, no randomness), so the dashboard's snapshots hold on every
machine. Used by the dashboard's tests (a small store) and by ``tests/bench/tui.py`` (100,000
steps x 200 parameters).
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gradscope.records import MODULE_METRICS, PARAM_METRICS
from gradscope.store import codec, schema
from gradscope.store.lock import WriterLock

HPARAMS = {"betas": [0.9, 0.999], "eps": 1e-08, "amsgrad": False}
STATE_KEYS = ("exp_avg.norm", "exp_avg_sq.norm", "eff_step.median", "eff_step.max", "step.value")


def model_layout(layers: int, *, extras: bool) -> tuple[list[tuple], list[tuple]]:
    """Modules ``(path, type, parent, n_params)`` and parameters ``(name, shape, module, grad)``.

    ``layers`` blocks of Linear + ReLU + LayerNorm (four parameters each); ``extras`` adds a
    frozen embedding, a head, and a module that never runs, for the health colours.
    """
    modules: list[tuple] = [("", "Net", None, 0), ("layers", "ModuleList", "", 0)]
    params: list[tuple] = []
    if extras:
        modules.append(("embed", "Embedding", "", 64))
        params.append(("embed.weight", (16, 4), "embed", False))
    for i in range(layers):
        block = f"layers.{i}"
        modules += [
            (block, "Block", "layers", 0),
            (f"{block}.fc", "Linear", block, 20),
            (f"{block}.act", "ReLU", block, 0),
            (f"{block}.norm", "LayerNorm", block, 8),
        ]
        params += [
            (f"{block}.fc.weight", (4, 4), f"{block}.fc", True),
            (f"{block}.fc.bias", (4,), f"{block}.fc", True),
            (f"{block}.norm.weight", (4,), f"{block}.norm", True),
            (f"{block}.norm.bias", (4,), f"{block}.norm", True),
        ]
    if extras:
        modules += [("head", "Linear", "", 5), ("unused", "Linear", "", 12)]
        params += [
            ("head.weight", (1, 4), "head", True),
            ("head.bias", (1,), "head", True),
            ("unused.weight", (3, 3), "unused", True),
            ("unused.bias", (3,), "unused", True),
        ]
    return modules, params


def lr_at(step: int, steps: int) -> float:
    """A StepLR schedule: 1e-2 halved at each quarter of the run (exact binary fractions)."""
    return 0.01 * 0.5 ** (step // max(1, steps // 4))


def param_values(i: int, name: str, step: int, steps: int) -> dict[str, float | None]:
    """Deterministic statistics of parameter ``i`` at ``step`` (no clocks, no randomness)."""
    wobble = 1 + ((step * 7 + i * 13) % 17) / 34
    grad = 10.0 ** -(i % 4) * wobble * (0.5 + 0.5 * 1000 / (1000 + step))
    weight = 1.0 + (i % 7) / 7 + step / (10 * steps)
    nan = 0.0
    if name == "layers.0.fc.weight":
        grad *= 1e-9
    elif name == "head.weight":
        grad = 10.0 ** (7 * step / steps)  # over the doctor's explode_bound (1e6) at the end
    elif name == "layers.1.norm.bias" and step >= 0.9 * steps:
        grad, nan = float("nan"), 3.0
    if name.startswith(("embed.", "unused.")):
        return {"weight_norm": weight, "update_norm": 0.0, "update_ratio": 0.0}
    update = lr_at(step, steps) * (1 + (i % 3) / 4)
    # Clipping acts in the middle half of the run: the norms before it were 4x larger.
    clipped = steps // 4 <= step < 3 * steps // 4
    return {
        "grad_norm": None if math.isnan(grad) else grad,
        "grad_norm_preclip": None if math.isnan(grad) else grad * (4.0 if clipped else 1.0),
        "grad_absmax": None if math.isnan(grad) else grad / 2,
        "grad_nan": nan,
        "grad_inf": 0.0,
        "weight_norm": weight,
        "update_norm": update,
        "update_ratio": update / weight,
    }


#: What the non-finite store puts where a value was: NaN, +Inf, -Inf, or nothing at all.
NONFINITE_KINDS: tuple[float | None, ...] = (math.nan, math.inf, -math.inf, None)
_KEEP = object()


def broken(i: int, step: int, steps: int) -> object:
    """The non-finite value series ``i`` holds at ``step`` in the non-finite store, or
    ``_KEEP`` where it keeps its value.

    Every series holds every kind: ``i % 4`` in the last quarter of the run (so the latest
    values show it), the other three in windows of eight steps from the middle on (so the
    dashboard's 48-point sampling and a sparse cadence of 10 both meet each of them).
    """
    if step >= 3 * steps // 4 or step == steps - 1:
        return NONFINITE_KINDS[i % 4]
    window = (step - steps // 2) // 8
    if step >= steps // 2 and window < 3:
        return NONFINITE_KINDS[(i + 1 + window) % 4]
    return _KEEP


def _real(value: float | None) -> float | str | None:
    """A value as the store's writer binds it (NaN as the text ``NaN``)."""
    return codec.encode_real(value)


def _param_rows(
    ids: list[int], names: list[str], step: int, steps: int, *, nonfinite: bool = False
) -> Iterator[tuple]:
    for i, (pid, name) in enumerate(zip(ids, names, strict=True)):
        v = param_values(i, name, step, steps)
        row = []
        for k, m in enumerate(PARAM_METRICS):
            value = v.get(m)
            if nonfinite and m != "grad_nan" and m != "grad_inf":
                bad = broken(i + k, step, steps)
                value = value if bad is _KEEP else bad  # type: ignore[assignment]
            row.append(_real(value))
        yield (pid, step, *row)


def write_store(
    path: Path,
    *,
    layers: int,
    steps: int,
    every: int = 1,
    sparse_every: int = 10,
    extras: bool = False,
    finished: bool = True,
    alerts: bool = False,
    nonfinite: bool = False,
) -> Path:
    """Write a complete store of ``steps`` steps in the documented layout; return its path.

    ``nonfinite`` puts NaN, +Inf, -Inf and missing values (:func:`broken`) into every series:
    loss, learning rates, every parameter metric, optimizer state, activations, histograms.
    """

    def bad(i: int, step: int, value: float | None) -> float | str | None:
        out = broken(i, step, steps) if nonfinite else _KEEP
        return _real(value if out is _KEEP else out)  # type: ignore[arg-type]

    def lrs(step: int) -> str:
        return json.dumps(
            [
                _json_real(broken(g + 1, step, steps) if nonfinite else _KEEP, lr_at(step, steps))
                for g in range(2)
            ]
        )

    modules, params = model_layout(layers, extras=extras)
    conn = sqlite3.connect(path)
    schema.create(conn)
    conn.execute("PRAGMA synchronous=OFF")
    n_params = sum(math.prod(p[1]) for p in params)
    n_train = sum(math.prod(p[1]) for p in params if p[3] and not p[0].startswith("embed"))
    meta: dict[str, Any] = {
        "gradscope_version": "0.1.0",
        "torch_version": "2.13.0+cpu",
        "model": "Net",
        "n_params": n_params,
        "n_trainable": n_train,
        "devices": ["cpu"],
        "optimizers": ["AdamW"],
        "options": {"every": every, "detail_every": sparse_every // every},
    }
    if finished:
        meta.update(finished=1.0, steps=steps)
    with conn:
        conn.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, json.dumps(v)) for k, v in meta.items()],
        )
        conn.executemany(
            "INSERT INTO modules (path, type, parent, n_params, buffers) VALUES (?, ?, ?, ?, '[]')",
            modules,
        )
        conn.executemany(
            "INSERT INTO params (name, aliases, shape, dtype, device, requires_grad, module)"
            " VALUES (?, '[]', ?, 'float32', 'cpu', ?, ?)",
            [(n, json.dumps(s), int(g and not n.startswith("embed")), m) for n, s, m, g in params],
        )
        groups = [
            {"params": [p[0] for p in params if p[0].endswith("weight")], "weight_decay": 0.01},
            {"params": [p[0] for p in params if not p[0].endswith("weight")], "weight_decay": 0.0},
        ]
        conn.execute(
            "INSERT INTO optimizers (id, type, defaults, groups) VALUES (0, 'AdamW', ?, ?)",
            (
                json.dumps({"lr": 0.01, "weight_decay": 0.01, **HPARAMS}),
                json.dumps(
                    [
                        {
                            "optimizer": 0,
                            "index": g,
                            "params": grp["params"],
                            "hparams": {"lr": 0.01, "weight_decay": grp["weight_decay"], **HPARAMS},
                        }
                        for g, grp in enumerate(groups)
                    ]
                ),
            ),
        )
    ids = [r[0] for r in conn.execute("SELECT id FROM params ORDER BY id")]
    names = [p[0] for p in params]
    # Activation statistics for the first block's ReLU only: the second's row stays hidden.
    active = [r[0] for r in conn.execute("SELECT id FROM modules WHERE path = 'layers.0.act'")]
    cols = ", ".join(PARAM_METRICS)
    marks = ", ".join("?" for _ in PARAM_METRICS)
    chunk = 1000
    for start in range(0, steps, chunk):
        logged = [s for s in range(start, min(steps, start + chunk)) if s % every == 0]
        sparse = [s for s in logged if s % sparse_every == 0]
        with conn:
            conn.executemany(
                "INSERT INTO steps (step, wall_time, duration, loss, n_backward, logged, lrs)"
                " VALUES (?, ?, 0.01, ?, 1, ?, ?)",
                [
                    (
                        s,
                        1.0e9 + s / 100,
                        bad(0, s, 2.0 * 0.999**s + 0.1 + ((s * 31) % 7) / 100),
                        int(s % every == 0),
                        lrs(s),
                    )
                    for s in range(start, min(steps, start + chunk))
                ],
            )
            conn.executemany(
                f"INSERT INTO param_stats (param_id, step, {cols}) VALUES (?, ?, {marks})",
                (
                    row
                    for s in logged
                    for row in _param_rows(ids, names, s, steps, nonfinite=nonfinite)
                ),
            )
            conn.executemany(
                "INSERT INTO group_stats (optimizer, grp, step, lr, hparams)"
                " VALUES (0, ?, ?, ?, ?)",
                [
                    (
                        g,
                        s,
                        bad(g + 1, s, lr_at(s, steps)),
                        json.dumps({"weight_decay": grp["weight_decay"], **HPARAMS}),
                    )
                    for s in logged
                    for g, grp in enumerate(groups)
                ],
            )
            conn.executemany(
                "INSERT INTO state_stats (param_id, name, step, value) VALUES (?, ?, ?, ?)",
                [
                    (
                        pid,
                        key,
                        s,
                        bad(
                            i + k, s, (k + 1) * 10.0 ** -(i % 4) if key != "step.value" else s + 1.0
                        ),
                    )
                    for s in sparse
                    for i, pid in enumerate(ids)
                    if not names[i].startswith(("embed.", "unused."))
                    for k, key in enumerate(STATE_KEYS)
                ],
            )
            conn.executemany(
                "INSERT INTO histograms (param_id, kind, step, scale, lo, hi, counts, nan, posinf,"
                " neginf, zeros, sampled) VALUES (?, 'grad', ?, 'linear', ?, ?, ?, ?, ?, ?, 0, ?)",
                [
                    (
                        pid,
                        s,
                        *_hist_range(i, s, steps, nonfinite),
                        _bell(i, s),
                        *_hist_nonfinite(i, s, steps, nonfinite),
                        1024,
                    )
                    for s in sparse
                    for i, pid in enumerate(ids)
                    if not names[i].startswith(("embed.", "unused."))
                ],
            )
            conn.executemany(
                f"INSERT INTO module_stats (module_id, step, calls, training, shape, dtype,"
                f" device, {', '.join(MODULE_METRICS)}) VALUES (?, ?, 1, 1, '[8, 4]', 'float32',"
                f" 'cpu', {', '.join('?' for _ in MODULE_METRICS)})",
                [
                    (mid, s, *(bad(k + j, s, _act(k, j, s)) for j in range(len(MODULE_METRICS))))
                    for s in sparse
                    for k, mid in enumerate(active)
                ],
            )
    if alerts:
        with conn:
            conn.executemany(
                'INSERT INTO alerts (code, severity, "where", step, message, details)'
                " VALUES (?, ?, ?, ?, ?, ?)",
                ALERTS + (NONFINITE_ALERTS if nonfinite else []),
            )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


ALERTS = [
    (
        "nonfinite-grad",
        "error",
        "layers.1.norm.bias",
        180,
        "NaN first appeared in the gradient of layers.1.norm.bias at step 180. Fix: lower the lr "
        "or clip gradients: torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)",
        json.dumps({"nan": 3}),
    ),
    (
        "exploding-gradients",
        "warning",
        "head.weight",
        150,
        "The gradient norm of head.weight grew by 4 orders of magnitude. Fix: clip gradients.",
        json.dumps({"ratio": 1e4}),
    ),
    (
        "unused-parameter",
        "info",
        "unused",
        None,
        "unused never ran in forward, so its parameters never get a gradient. Fix: remove it or "
        "call it in forward().",
        json.dumps({"params": ["unused.weight", "unused.bias"]}),
    ),
]


NONFINITE_ALERTS = [
    (
        "nonfinite-loss",
        "error",
        "loss",
        150,
        "The loss was nan at step 150. Fix: use F.cross_entropy(logits, target).",
        json.dumps({"value": None, "first_step": 150, "kinds": ["nan", "inf"]}),
    ),
]


def _json_real(out: object, value: float) -> float | None:
    """A learning rate in the steps' ``lrs`` JSON: NaN and ±Inf as JSON's own tokens."""
    return value if out is _KEEP else out  # type: ignore[return-value]


def _hist_range(i: int, step: int, steps: int, nonfinite: bool) -> tuple[Any, Any]:
    """Bin range: ``[-1, 1]``; in the non-finite store NaN or infinite for some parameters."""
    out = broken(i, step, steps) if nonfinite else _KEEP
    if out is _KEEP or out is None:
        return -1.0, 1.0
    return _real(out), _real(out)  # type: ignore[arg-type]


def _hist_nonfinite(i: int, step: int, steps: int, nonfinite: bool) -> tuple[int, int, int]:
    """NaN, +Inf and -Inf counts beside the bins (non-zero in the non-finite store only)."""
    if not nonfinite or broken(i, step, steps) is _KEEP:
        return 0, 0, 0
    return 7, 3, 2


def _act(k: int, j: int, step: int) -> float:
    """Activation statistic ``j`` of active module ``k`` at ``step`` (exact, no randomness)."""
    return (0.5, 1.0, 3.0, 0.25, 0.0, 0.1)[j] * (1 + k + (step % 13) / 26)


def _bell(i: int, step: int) -> bytes:
    """32 histogram counts shaped like a bell that narrows as the step grows."""
    width = 4 + (i % 5) + 1000 / (100 + step)
    counts = [int(1000 * math.exp(-(((b - 15.5) / width) ** 2))) for b in range(32)]
    return struct.pack("<32I", *counts)


@contextlib.contextmanager
def live_writer(path: Path) -> Iterator[Path]:
    """Hold the store's writer lock, as a training process does while it writes: readers then
    follow the store as a live run (an unfinished store without its writer reads as a copy
    that lost its write-ahead log)."""
    lock = WriterLock(path)
    lock.acquire()
    try:
        yield path
    finally:
        lock.release()


def append_steps(path: Path, first: int, n: int, *, layers: int, steps: int) -> None:
    """Append ``n`` steps from ``first`` as the training's writer would (one transaction)."""
    _, params = model_layout(layers, extras=False)
    conn = sqlite3.connect(path)
    ids = [r[0] for r in conn.execute("SELECT id FROM params ORDER BY id")]
    names = [p[0] for p in params]
    cols = ", ".join(PARAM_METRICS)
    marks = ", ".join("?" for _ in PARAM_METRICS)
    with conn:
        conn.executemany(
            "INSERT INTO steps (step, wall_time, duration, loss, n_backward, logged, lrs)"
            " VALUES (?, 0, 0.01, ?, 1, 1, ?)",
            [
                (s, 0.1 + 1 / (1 + s), json.dumps([lr_at(s, steps)] * 2))
                for s in range(first, first + n)
            ],
        )
        conn.executemany(
            f"INSERT INTO param_stats (param_id, step, {cols}) VALUES (?, ?, {marks})",
            (row for s in range(first, first + n) for row in _param_rows(ids, names, s, steps)),
        )
    conn.close()
