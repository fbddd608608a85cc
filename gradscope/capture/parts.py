"""What every stage of a step shares: one bundle, built by the scope, handed down.

The step path, the step batch, manual updates and the watched set each read the same
instruments, registry, pending queue, capture, flight recorder and writer; passing the bundle
keeps their constructors to what is theirs alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn
from torch.optim import Optimizer

from gradscope.capture.flight import FlightRecorder
from gradscope.capture.guard import Instruments
from gradscope.capture.handles import HookGroup
from gradscope.capture.params import ParamCapture
from gradscope.capture.pending import Pending
from gradscope.capture.registry import ParamRegistry
from gradscope.options import WatchOptions
from gradscope.store.writer import StoreWriter


@dataclass(eq=False)
class StepParts:
    """The scope's collaborators, shared by reference: models and optimizers added later appear
    in these same containers."""

    options: WatchOptions
    instruments: Instruments
    reg: ParamRegistry
    pending: Pending
    capture: ParamCapture
    flight: FlightRecorder
    writer: StoreWriter
    models: dict[str, nn.Module]
    optimizers: list[Optimizer]
    hooks: HookGroup
    #: The scope these parts serve. The hooks reach the parts, so the parts keep the scope
    #: alive while its hooks are on: ``gs.watch(model, opt)`` whose result is dropped still
    #: records the whole run, and is closed at exit.
    owner: object = None
