"""``loss-target-range``: a loss was given targets outside the values it is defined for.

Some losses take a sign, not a class: ``CosineEmbeddingLoss``, ``MarginRankingLoss``,
``HingeEmbeddingLoss`` and ``SoftMarginLoss`` want 1 or -1 (``CosineEmbeddingLoss`` with 0 for
"dissimilar" silently ignores those pairs). ``BCELoss`` / ``BCEWithLogitsLoss`` want
probabilities in [0, 1] (a 0/255 mask or class indices make the loss unbounded below).
``KLDivLoss`` without ``log_target=True`` wants probabilities, not log-probabilities. Capture
records the target values (or their range) during the first steps; none of these raise.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context, fmt
from gradscope.records import Alert

CODE = "loss-target-range"
SIGN_FIXES = {
    "cosine_embedding_loss": "`target = same.float() * 2 - 1` (1 similar, -1 dissimilar)",
    "margin_ranking_loss": "`target = torch.where(first_wins, 1.0, -1.0)`",
    "hinge_embedding_loss": "`target = labels.float() * 2 - 1`",
    "soft_margin_loss": "`target = labels.float() * 2 - 1`",
}


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("loss_input"):
        d = event.details
        fn = str(d.get("fn"))
        text = _problem(fn, d)
        if text is None:
            continue
        yield ctx.event_alert(
            CODE,
            "error",
            event,
            f"At `{event.where}` (step {event.step}) {text}",
            fn=fn,
            **{k: d[k] for k in ("target_values", "target_min", "target_max") if k in d},
        )


def _problem(fn: str, d: dict) -> str | None:
    """The sentence for a target out of range, or ``None`` when it is fine."""
    if fn in SIGN_FIXES and "target_values" in d:
        values = [float(v) for v in d["target_values"]]
        bad = [v for v in values if v not in (-1.0, 1.0)]
        if not bad:
            return None
        shown = ", ".join(fmt(v) for v in values)
        zero = (
            " Pairs labelled 0 contribute nothing, so dissimilar pairs are never pushed apart."
            if 0.0 in bad and fn == "cosine_embedding_loss"
            else ""
        )
        return (
            f"`{fn}` was given targets {{{shown}}}, but it takes 1 or -1.{zero} The loss is "
            f"then not the one intended and nothing warns. Map the labels: {SIGN_FIXES[fn]}."
        )
    if "target_min" not in d:
        return None
    lo, hi = float(d["target_min"]), float(d["target_max"])
    if fn in ("binary_cross_entropy", "binary_cross_entropy_with_logits") and (lo < 0 or hi > 1):
        return (
            f"`{fn}` was given targets from {fmt(lo)} to {fmt(hi)}, but they must be "
            "probabilities in [0, 1]: outside it the loss has no minimum and pushes the logits "
            "to infinity. Scale or one-hot them, e.g. `target = mask / 255` or "
            "`F.one_hot(labels, n_classes).float()`."
        )
    if fn == "kl_div" and not d.get("log_target") and lo < 0:
        return (
            f"`kl_div` was given a target with negative values (down to {fmt(lo)}): "
            "log-probabilities, while it expects probabilities unless told otherwise. Pass "
            "`log_target=True` (`nn.KLDivLoss(reduction='batchmean', log_target=True)`) or give "
            "it `target.exp()`."
        )
    return None
