"""Callbacks that attach gradscope to a trainer's model and optimizer for the length of a fit.

Each integration is its own module and imports its trainer library only when imported itself,
so ``import gradscope`` never pulls in Lightning or transformers:

- :mod:`gradscope.integrations.lightning`: ``GradscopeCallback`` for ``lightning.pytorch`` (or
  ``pytorch_lightning``); install with ``pip install "gradscope[lightning]"``.
- :mod:`gradscope.integrations.huggingface`: ``GradscopeTrainerCallback`` for the
  ``transformers`` ``Trainer``; install with ``pip install "gradscope[huggingface]"``.
"""

from __future__ import annotations
