"""``dropout-before-batchnorm``: Dropout feeds BatchNorm directly.

In training, dropout scales the kept activations by 1/(1-p), so BatchNorm's running variance
is learned on a wider distribution than the one it sees in eval mode, where dropout is off:
the "variance shift" (Li et al., 2019) that makes eval accuracy worse than training suggests.
Capture notices a BatchNorm whose input tensor is a Dropout's output.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.records import Alert

CODE = "dropout-before-batchnorm"


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("dropout_before_batchnorm"):
        dropout = ctx.label(str(event.details.get("dropout", "a Dropout")))
        bn = ctx.label(event.where)
        yield ctx.alert(
            CODE,
            "warning",
            bn,
            event.step,
            f"`{dropout}` feeds `{bn}` directly. Dropout widens the activations' variance during "
            f"training only, so `{bn}`'s running variance does not match what it sees in eval "
            "mode and the model does worse after `model.eval()` (variance shift). Put "
            "dropout after the normalisation, e.g. `nn.Sequential(nn.Linear(..), "
            "nn.BatchNorm1d(..), nn.ReLU(), nn.Dropout(p))`, or only after the last "
            "BatchNorm.",
            dropout=dropout,
        )
