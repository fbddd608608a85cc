"""``gradscope graph SCRIPT``: run an unmodified training script for one step, capture its graph.

The script runs as ``python SCRIPT ARGS`` would (as ``__main__``, its folder first on
``sys.path``) with global module hooks recording every forward. The first top-level module with
parameters is the model. At the first ``backward()`` the graph is captured from the tensor being
differentiated (hooks for the heat map included), that backward runs, and the script is stopped:
one step is all a graph needs. Every hook and patch is undone afterwards.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
)

from gradscope.errors import GradscopeError
from gradscope.graph.attribution import ModuleRecord, Recorder, param_names
from gradscope.graph.capture import capture_graph
from gradscope.graph.cuts import CutWatcher
from gradscope.graph.model import Graph


class _StepDone(BaseException):
    """Stops the script after its first backward (a BaseException, so ``except Exception`` in
    the script does not swallow it)."""


class ScriptCapture:
    """The hooks and the patched ``torch.autograd.backward`` of one ``gradscope graph`` run."""

    def __init__(self, *, saved: bool, attrs: bool, heat: bool, depth: int | str | None) -> None:
        self.options: dict[str, Any] = {"saved": saved, "attrs": attrs, "grads": heat}
        self.depth = depth
        self.record = ModuleRecord()
        self.recorder = Recorder(self.record, {})
        self.model: nn.Module | None = None
        self.paths: dict[int, str] = {}
        self.graph: Graph | None = None
        self._handles: list[Any] = []
        self._watcher: CutWatcher | None = None
        self._backward = torch.autograd.backward

    def _pre(self, module: nn.Module, args: Any) -> None:
        top = self.model is None and self.recorder.current() is None
        if top and any(True for _ in module.parameters()):
            self.model = module
            self.paths = {id(m): name for name, m in module.named_modules()}
            self.recorder.set_params(param_names(module))
        path = self.paths.get(id(module))
        if path is None:  # a module outside the model (a loss module, another network)
            path = f"<{type(module).__name__}>"
        self.recorder.enter(path, type(module).__name__)

    def _post(self, module: nn.Module, args: Any, output: Any) -> None:
        self.recorder.exit()

    def start(self) -> None:
        self._handles.append(register_module_forward_pre_hook(self.recorder.guard(self._pre)))
        post = self.recorder.guard(self._post)
        self._handles.append(register_module_forward_hook(post, always_call=True))
        self._watcher = CutWatcher(self.recorder)
        self._watcher.__enter__()
        torch.autograd.backward = self._capture_then_backward  # type: ignore[assignment]

    def finish(self) -> None:
        """Stop recording and resolve it (idempotent). The cut watcher is only switched off
        here: ``backward()`` itself may run inside the mode, which cannot be popped from there.
        """
        torch.autograd.backward = self._backward
        if self._watcher is not None:
            self._watcher.enabled = False
        handles, self._handles = self._handles, []
        for handle in reversed(handles):
            handle.remove()
        if not self.record.finished:
            self.recorder.close()

    def stop(self) -> None:
        """Undo everything :meth:`start` did (idempotent)."""
        self.finish()
        if self._watcher is not None:
            self._watcher.__exit__(None, None, None)
            self._watcher = None

    def _capture_then_backward(self, tensors: Any, *args: Any, **kwargs: Any) -> None:
        self.finish()
        roots = tensors if isinstance(tensors, torch.Tensor) else tuple(tensors)
        self.graph = capture_graph(
            roots, model=self.model, record=self.record, depth=self.depth, **self.options
        )
        self._backward(tensors, *args, **kwargs)
        raise _StepDone


def graph_from_script(
    script: str | Path,
    args: list[str] | tuple[str, ...] = (),
    *,
    saved: bool = False,
    attrs: bool = False,
    heat: bool = True,
    depth: int | Literal["auto"] | None = "auto",
) -> Graph:
    """Run ``script`` until its first ``backward()`` and return that step's graph."""
    path = Path(script)
    if not path.is_file():
        raise GradscopeError(f"no script at {str(script)!r}: pass the path of a Python file")
    run = ScriptCapture(saved=saved, attrs=attrs, heat=heat, depth=depth)
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(path.resolve().parent))
    try:
        run.start()
        runpy.run_path(str(path), run_name="__main__")
    except _StepDone:
        pass
    except SystemExit as exc:
        if run.graph is None:
            raise GradscopeError(
                f"{script} exited (code {exc.code}) before its first backward()"
            ) from None
    except Exception as exc:
        if run.graph is None:
            raise GradscopeError(f"{script} raised {exc!r} before its first backward()") from exc
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        run.stop()
    if run.graph is None:
        raise GradscopeError(f"{script} never called backward(); there is no graph to capture")
    return run.graph
