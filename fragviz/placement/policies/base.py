"""What every policy provides; the engine (``fragviz.placement.engine``) does the rest."""

from __future__ import annotations

import numpy as np


def fitting_devices(ctx, pod: int, node: int) -> tuple[np.ndarray, np.ndarray]:
    """Free milli per device of ``node`` (-1 where it has none) and the devices where ``pod``'s
    milli fits."""
    c = ctx.cluster
    free = np.where(c.present[node], c.gpu_free[node], -1)
    return free, np.flatnonzero(free >= int(ctx.pods.milli[pod]))


class Policy:
    """Scores feasible nodes for one pod (:meth:`scores`) and chooses the device of a shared-GPU
    pod at Reserve (:meth:`shared_device`: best fit unless the policy has its own rule). ``name``
    is the registry key (``--policy``), ``label`` what pages and tables show (default: the name),
    ``colour`` its line in the replay charts (a hex colour; empty: the chart picks a spare one)."""

    name = ""
    label = ""
    colour = ""

    def __init__(self, continuous: bool = False):
        self.continuous = continuous

    def scores(self, ctx, pod: int, nodes: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def shared_device(self, ctx, pod: int, node: int) -> int:
        """The device of a shared-GPU pod on ``node``: best fit, the smallest free milli that fits
        (the lowest index on ties)."""
        free, fitting = fitting_devices(ctx, pod, node)
        return int(fitting[np.argmin(free[fitting])])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(continuous={self.continuous})"
