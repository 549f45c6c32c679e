"""What every policy provides; the engine (``fragviz.placement.engine``) does the rest."""

from __future__ import annotations

import numpy as np


class Policy:
    """Scores feasible nodes for one pod. ``gpu_select`` names the device choice of shared
    pods at Reserve: ``best`` (smallest free milli that fits), ``random``, or the policy's own
    (:meth:`shared_device`). ``name`` is the registry key (``--policy``), ``label`` what pages
    and tables show (default: the name), ``colour`` its line in the replay charts (a hex colour;
    empty: the chart picks a spare one)."""

    name = ""
    label = ""
    colour = ""
    gpu_select = "best"

    def __init__(self, continuous: bool = False):
        self.continuous = continuous

    def scores(self, ctx, pod: int, nodes: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def shared_device(self, ctx, pod: int, node: int) -> int:
        """Device for a shared-GPU pod when ``gpu_select`` is the policy's own."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(continuous={self.continuous})"
