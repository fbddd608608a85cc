"""The integration tests run the real trainers on a CPU, offline, with nothing reported anywhere.

The Hugging Face libraries read these variables when they are imported, so they are set here,
before any test module imports them.
"""

from __future__ import annotations

import os

os.environ.update(
    HF_HUB_OFFLINE="1",
    TRANSFORMERS_OFFLINE="1",
    HF_DATASETS_OFFLINE="1",
    WANDB_DISABLED="true",
    WANDB_MODE="disabled",
    TOKENIZERS_PARALLELISM="false",
)
