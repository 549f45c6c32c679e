"""Random: one uniformly drawn feasible node scores 100, the others 0; shared pods get a
uniformly drawn fitting device (§1c). Reproducible per seed, not bit-identical to Go's RNG."""

from __future__ import annotations

import numpy as np

from .base import Policy, fitting_devices


class RandomPolicy(Policy):
    name = "random"
    label = "Random"
    colour = "#7f8c8d"

    def scores(self, ctx, pod, nodes):
        score = np.zeros(len(nodes), dtype=np.int64)
        score[int(ctx.rng.integers(len(nodes)))] = 100
        return score

    def shared_device(self, ctx, pod, node):
        _, fitting = fitting_devices(ctx, pod, node)
        return int(fitting[int(ctx.rng.integers(len(fitting)))])
