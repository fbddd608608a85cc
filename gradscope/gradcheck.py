"""``gs.check_function``: gradcheck a custom ``autograd.Function`` and say what is wrong.

The verdict is ``torch.autograd.gradcheck``'s own, in double precision. When it fails, the
Jacobians are recomputed (finite differences against the Function's backward) to name the input
and the element where they disagree most, which is what one needs to find the wrong line.
A Function whose forward is flat (``sign``, ``round``: every finite difference is 0) has a
backward that cannot be its derivative on purpose (a straight-through estimator); it passes.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch

#: Inputs (and outputs) larger than this are not checked: finite differences cost one forward
#: pass per element.
MAX_ELEMENTS = 4096
#: The check made during training cuts a batch to at most this many elements: its cost grows
#: with the square of the size (4096 elements of a cheap Function take seconds), and a wrong
#: backward is as wrong on a few rows.
SLICE_ELEMENTS = 512


@dataclass(frozen=True)
class GradcheckResult:
    """The verdict on one Function; ``bool(result)`` is whether backward is right."""

    function: str
    ok: bool
    message: str
    input_index: int | None = None
    element: tuple[int, ...] | None = None
    output_element: tuple[int, ...] | None = None
    analytical: float | None = None
    numerical: float | None = None
    max_error: float | None = None
    skipped: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _prepare(inputs: tuple[Any, ...]) -> list[Any]:
    out = []
    for x in inputs:
        if isinstance(x, torch.Tensor) and (x.is_floating_point() or x.is_complex()):
            x = x.detach().to(torch.complex128 if x.is_complex() else torch.float64)
            out.append(x.clone().requires_grad_(True))
        else:
            out.append(x)
    return out


def check_function(
    fn: type[torch.autograd.Function] | Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> GradcheckResult:
    """Check ``fn`` (a Function class or any differentiable callable) on ``inputs``.

    Inputs are copied to float64 with ``requires_grad``; the caller's tensors are untouched.
    """
    name = _name(fn)
    apply: Callable[..., Any] = (
        fn.apply if isinstance(fn, type) and issubclass(fn, torch.autograd.Function) else fn
    )
    xs = _prepare(inputs)
    diff = [i for i, x in enumerate(xs) if isinstance(x, torch.Tensor) and x.requires_grad]
    if not diff:
        return GradcheckResult(name, True, f"{name}: no floating-point tensor input to check",
                               skipped="no differentiable input")  # fmt: skip
    size = sum(xs[i].numel() for i in diff)
    if size > MAX_ELEMENTS:
        return GradcheckResult(
            name, True,
            f"{name}: inputs have {size} elements, more than {MAX_ELEMENTS}; "
            f"call gs.check_function({name}, ...) on a smaller example",
            skipped="inputs too large",
        )  # fmt: skip
    with torch.enable_grad():
        try:
            ok = torch.autograd.gradcheck(
                apply, tuple(xs), eps=eps, atol=atol, rtol=rtol, raise_exception=False
            )
        except Exception as exc:
            return GradcheckResult(name, False, f"{name} raised during gradcheck: {exc!r}")
        if ok:
            return GradcheckResult(name, True, f"{name}: backward agrees with numerical gradients")
        return _explain(name, apply, xs, diff, eps, atol, rtol)


def _outputs(apply: Callable[..., Any], xs: list[Any]) -> torch.Tensor:
    out = apply(*xs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return torch.cat([o.reshape(-1) for o in outs if isinstance(o, torch.Tensor)])


def _explain(
    name: str,
    apply: Callable[..., Any],
    xs: list[Any],
    diff: list[int],
    eps: float,
    atol: float,
    rtol: float,
) -> GradcheckResult:
    """Find the input element whose analytical and numerical derivatives disagree most.

    Finite differences nudge the inputs in place, so they all run before the one forward pass
    whose graph gives the analytical Jacobian.
    """
    with torch.no_grad():
        size = _outputs(apply, xs).numel()
    if size > MAX_ELEMENTS:
        return GradcheckResult(name, False, f"backward of {name} disagrees with numerical "
                               "gradients (output too large to locate the element)")  # fmt: skip
    numerical: dict[int, torch.Tensor] = {}
    with torch.no_grad():
        for i in diff:
            flat = xs[i].detach().reshape(-1)
            jac = torch.zeros(size, flat.numel(), dtype=torch.float64)
            for k in range(flat.numel()):
                orig = flat[k].item()
                flat[k] = orig + eps
                plus = _outputs(apply, xs).real
                flat[k] = orig - eps
                minus = _outputs(apply, xs).real
                flat[k] = orig
                jac[:, k] = (plus - minus) / (2 * eps)
            numerical[i] = jac
    if all(not bool(jac.any()) for jac in numerical.values()):
        return GradcheckResult(
            name, True,
            f"{name}'s forward is flat (piecewise constant: its finite differences are 0 "
            "everywhere), so its backward is a surrogate gradient by design, as in a "
            "straight-through estimator",
            skipped="surrogate gradient",
        )  # fmt: skip
    out = _outputs(apply, xs)
    worst: tuple[float, int, int, int, float, float] | None = None
    for i in diff:
        x, num = xs[i], numerical[i]
        analytical = torch.zeros_like(num)
        for j in range(size):
            (g,) = torch.autograd.grad(out[j].real, x, retain_graph=True, allow_unused=True)
            if g is not None:
                analytical[j] = g.reshape(-1).real
        excess = (analytical - num).abs() - (atol + rtol * num.abs())
        j, k = divmod(int(excess.argmax()), num.shape[1])
        if worst is None or excess[j, k] > worst[0]:
            worst = (float(excess[j, k]), i, j, k, float(analytical[j, k]), float(num[j, k]))
    assert worst is not None
    _, i, j, k, a, n = worst
    element = tuple(int(v) for v in torch.unravel_index(torch.tensor(k), xs[i].shape))
    message = (
        f"backward of {name} disagrees with numerical gradients for input {i}: d(output[{j}])/"
        f"d(input {i}{list(element)}) is {a:.6g} from backward but {n:.6g} by finite "
        f"differences (error {abs(a - n):.3g}); check {name}.backward against the derivative "
        "of its forward"
    )
    return GradcheckResult(name, False, message, input_index=i, element=element,
                           output_element=(j,), analytical=a, numerical=n,
                           max_error=abs(a - n))  # fmt: skip


#: Packages whose Functions are not the user's to check (torch's own checkpoint and compiled
#: functions, and any installed library's).
_LIBRARY_MARKERS = ("site-packages", "dist-packages")
_FIXED_SEED = 0x5EED


def is_user_function(cls: type) -> bool:
    """Whether ``cls`` was written by the user: not defined in torch, gradscope or any
    installed package (``torch.utils.checkpoint.CheckpointFunction``, ``torch.compile``'s
    ``CompiledFunction`` and a library's Functions are that library's to test)."""
    module_name = getattr(cls, "__module__", "") or ""
    top = module_name.split(".", 1)[0]
    if top in ("torch", "gradscope", "functorch", "triton"):
        return False
    module = sys.modules.get(module_name)
    path = str(getattr(module, "__file__", "") or "")
    return not any(marker in path for marker in _LIBRARY_MARKERS)


def batch_slice(inputs: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """``inputs`` cut to their first rows so the check stays affordable, or ``None`` when that
    cannot be done (they are small enough already, or one row is too large).

    Finite differences cost a forward pass per input element, so a training batch (256 rows
    of 32 features) is too large to check whole; the Function's backward is as right or wrong
    on its first rows. Every floating-point tensor whose first dimension is the batch size is
    cut, the others (weights, scalars) are passed on whole.
    """
    tensors = [x for x in inputs if isinstance(x, torch.Tensor) and x.is_floating_point()]
    size = sum(x.numel() for x in tensors)
    if size <= SLICE_ELEMENTS or not tensors or tensors[0].dim() == 0:
        return None
    batch = tensors[0].shape[0]
    rows = [x for x in tensors if x.dim() > 0 and x.shape[0] == batch]
    fixed = size - sum(x.numel() for x in rows)
    per_row = sum(x.numel() for x in rows) // max(batch, 1)
    keep = (SLICE_ELEMENTS - fixed) // per_row if per_row else 0
    if batch < 2 or keep < 1:
        return None
    keep = min(keep, 4, batch - 1)
    return tuple(
        x[:keep]
        if isinstance(x, torch.Tensor)
        and x.is_floating_point()
        and x.dim() > 0
        and x.shape[0] == batch
        else x
        for x in inputs
    )


def check_in_isolation(cls: type, inputs: tuple[Any, ...]) -> GradcheckResult:
    """:func:`check_function` as the automatic check runs it during training: on a forked RNG
    (the training's random stream is left exactly where it was), and with every forward call
    drawing the same random numbers, so a Function that samples (a custom dropout) is judged
    on one consistent draw instead of on the noise between draws. A batch too large to check
    is checked on its first rows (:func:`batch_slice`)."""
    with _forked_rng():
        apply = cls.apply  # type: ignore[attr-defined]

        def seeded(*xs: Any) -> Any:
            torch.manual_seed(_FIXED_SEED)
            return apply(*xs)

        seeded.__qualname__ = _name(cls)
        smaller = batch_slice(inputs)
        if smaller is not None and _runs(seeded, smaller):
            inputs = smaller
        return check_function(seeded, *inputs)


def _forked_rng() -> contextlib.AbstractContextManager[None]:
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    return torch.random.fork_rng(devices=devices)


def _runs(apply: Callable[..., Any], inputs: tuple[Any, ...]) -> bool:
    """Whether ``apply`` runs on ``inputs`` (a Function may need the whole batch)."""
    try:
        with torch.no_grad():
            apply(*_prepare(inputs))
    except Exception:
        return False
    return True
