"""Batched, on-device statistics: pure functions under ``torch.no_grad()``, no host syncs."""
