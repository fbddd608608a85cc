"""``gradscope graph SCRIPT``: run an unmodified training script for one step, capture its graph.

The script runs as ``python SCRIPT ARGS`` would (as ``__main__``, its folder first on
``sys.path``) with global module hooks recording every forward. The first top-level module with
parameters is the model. At the first ``backward()`` the graph is captured from the tensor being
differentiated (hooks for the heat map included), that backward runs, and the script is stopped:
one step is all a graph needs. Every hook and patch is undone afterwards.

Drawing a graph must leave the user's files alone: a scope the script opens itself
(``gs.watch(model, store="runs/exp.gsdb")``) records into a temporary folder that is deleted
afterwards, with its doctor off (its findings are the graph's break report), so the run the
user recorded before is never replaced. An exception the script raises, before or in its first
backward, is reported with the script's own traceback (:class:`ScriptError`), never swallowed.
"""

from __future__ import annotations

import os
import runpy
import sys
import tempfile
import traceback
from dataclasses import replace
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
from gradscope.graph.cuts import CutWatcher
from gradscope.graph.from_outputs import capture_graph
from gradscope.graph.model import Depth, GraphData


class ScriptError(GradscopeError):
    """The script raised an exception; ``script_traceback`` is its traceback from the script's
    own frames, as Python would print it (gradscope's frames left out)."""

    def __init__(self, message: str, script_traceback: str) -> None:
        super().__init__(message)
        self.script_traceback = script_traceback


class _StepDone(BaseException):
    """Stops the script after its first backward (a BaseException, so ``except Exception`` in
    the script does not swallow it)."""


class ScriptCapture:
    """The hooks and the patched ``torch.autograd.backward`` of one ``gradscope graph`` run."""

    def __init__(self, *, saved: bool, attrs: bool, heat: bool, depth: Depth) -> None:
        self.options: dict[str, Any] = {"saved": saved, "attrs": attrs, "grads": heat}
        self.depth = depth
        self.record = ModuleRecord()
        self.recorder = Recorder(self.record, {})
        self.model: nn.Module | None = None
        self.paths: dict[int, str] = {}
        self.graph: GraphData | None = None
        self._handles: list[Any] = []
        self._watcher: CutWatcher | None = None
        self._backward = torch.autograd.backward
        self.backward_error: BaseException | None = None

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
        # The script's own backward() goes through this patch; its looser signature is why
        # the assignment is not typed (finish() puts torch's function back).
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
        try:
            self._backward(tensors, *args, **kwargs)
        except Exception as exc:  # stop here too: the script must not catch it and go on
            self.backward_error = exc
            raise _StepDone from exc
        raise _StepDone


class ScriptScopes:
    """Scopes the script creates itself (``gs.watch``) record into ``folder`` with the doctor
    and graph snapshot off, whatever store they name; :meth:`stop` closes them and undoes the
    patch."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scopes: list[Any] = []
        self._original: Any = None

    def start(self) -> None:
        from gradscope.options import WatchOptions
        from gradscope.scope import Scope

        original = self._original = Scope.__init__
        opened = self.scopes

        def init(scope: Any, *args: Any, **kwargs: Any) -> None:
            named = kwargs.get("store")
            name = Path(named).name if named is not None else "watch.gsdb"
            kwargs["store"] = self.folder / f"{len(opened)}-{name}"
            options = kwargs.get("options") or WatchOptions()
            kwargs["options"] = replace(options, doctor=False, graph=False)
            original(scope, *args, **kwargs)
            opened.append(scope)

        # Patching the class is the point: a scope the script opens records into the folder.
        Scope.__init__ = init  # type: ignore[method-assign,assignment]

    def stop(self) -> None:
        """Put ``Scope`` back and close what the script left open (idempotent)."""
        from gradscope.scope import Scope

        if self._original is not None:
            Scope.__init__ = self._original  # type: ignore[method-assign]  # undoes start()
            self._original = None
        scopes, self.scopes = self.scopes, []
        for scope in scopes:
            scope.close()


def graph_from_script(
    script: str | Path,
    args: list[str] | tuple[str, ...] = (),
    *,
    saved: bool = False,
    attrs: bool = False,
    heat: bool = True,
    depth: int | Literal["auto"] | None = "auto",
) -> GraphData:
    """Run ``script`` until its first ``backward()`` and return that step's graph."""
    path = Path(script)
    if not path.is_file():
        raise GradscopeError(f"no script at {str(script)!r}: pass the path of a Python file")
    run = ScriptCapture(saved=saved, attrs=attrs, heat=heat, depth=depth)
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(path.resolve().parent))
    with tempfile.TemporaryDirectory(prefix="gradscope-graph-") as folder:
        scopes = ScriptScopes(Path(folder))
        try:
            scopes.start()
            run.start()
            runpy.run_path(str(path), run_name="__main__")
        except _StepDone as done:
            if run.backward_error is not None:
                error = run.backward_error
                raise _script_error(script, path, error, "in its first backward()", done) from None
        except SystemExit as exc:
            if run.graph is None:
                raise GradscopeError(
                    f"{script} exited (code {exc.code}) before its first backward()"
                ) from None
        except Exception as exc:
            when = "before" if run.graph is None else "after"
            raise _script_error(script, path, exc, f"{when} its first backward()") from None
        finally:
            sys.argv, sys.path[:] = saved_argv, saved_path
            run.stop()
            scopes.stop()
    if run.graph is None:
        raise GradscopeError(f"{script} never called backward(); there is no graph to capture")
    return run.graph


def _script_error(
    script: str | Path,
    path: Path,
    exc: BaseException,
    when: str,
    outer: BaseException | None = None,
) -> ScriptError:
    return ScriptError(
        f"{script} raised {type(exc).__name__} {when}, so no graph was drawn; "
        f"its traceback is above",
        script_traceback(exc, path, outer),
    )


def script_traceback(exc: BaseException, script: Path, outer: BaseException | None = None) -> str:
    """The traceback of ``exc`` as Python prints it, from the script's first frame on, without
    gradscope's own frames (the patched ``backward`` the script's call went through).
    ``outer`` is the exception that carried ``exc`` out of the script (its frames come first:
    they hold the script's line that called ``backward()``)."""
    target = os.path.abspath(script)
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frames = list(traceback.extract_tb(exc.__traceback__))
    if outer is not None:
        frames = list(traceback.extract_tb(outer.__traceback__)) + frames
    first = next((i for i, f in enumerate(frames) if os.path.abspath(f.filename) == target), 0)
    kept = [f for f in frames[first:] if not os.path.abspath(f.filename).startswith(package)]
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(kept)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)
