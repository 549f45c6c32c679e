"""Which device a shared-GPU pod gets is the policy's rule (Policy.shared_device): best fit by
default, FGD and Random their own; the engine asks the policy and knows no policy by name."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fragviz.placement import Cluster, Context, PodTable, make_policy, place
from fragviz.placement.policies.base import fitting_devices
from fragviz.placement.policies.bestfit import BestFit

WORKLOAD = pd.DataFrame({"cpu_milli": [4000, 2000], "gpu_milli": [1000, 500], "gpu_count": [1, 1], "gpu_spec": ["", ""],
                         "weight": [0.5, 0.5], "count": [1, 1], "memory_mib": [1.0, 1.0]})


class WorstFit(BestFit):
    """A toy policy: BestFit's node scores, but a share goes to the emptiest fitting device."""

    name = "worstfit"

    def shared_device(self, ctx, pod, node):
        free, fitting = fitting_devices(ctx, pod, node)
        return int(fitting[np.argmax(free[fitting])])


def context(seed: int = 0) -> Context:
    """One node whose 4 GPUs have 1000, 400, 700 and 200 milli free, and a 300-milli pod."""
    nodes = pd.DataFrame({"name": ["a"], "gpu_count": [4], "cpu_milli": [64000], "memory_mib": [262144.0],
                          "gpu_model": ["A100"]})
    pods = PodTable.from_frame(pd.DataFrame({"name": ["share"], "gpu_count": [1], "gpu_milli": [300],
                                             "cpu_milli": [1000], "memory_mib": [1024.0]}))
    ctx = Context(Cluster.from_nodes(nodes, WORKLOAD), pods, np.random.default_rng(seed))
    for device, used in ((1, 600), (2, 300), (3, 800)):
        ctx.cluster.bind(0, 0, 0.0, used, [device], 1)
    return ctx


def test_best_fit_is_the_default_device_rule():
    assert place(context(), make_policy("bestfit"), 0) == (0, [1])      # 400 free: the tightest that fits 300


def test_a_policy_with_its_own_device_rule_needs_no_engine_change():
    ctx = context()
    assert place(ctx, WorstFit(), 0) == (0, [0])                       # 1000 free: the emptiest
    assert ctx.cluster.gpu_free[0].tolist() == [700, 400, 700, 200]


def test_random_draws_among_the_fitting_devices_and_fgd_fragments_least():
    drawn = {place(context(seed), make_policy("random"), 0)[1][0] for seed in range(40)}
    assert drawn == {0, 1, 2}                                          # device 3 (200 free) never fits 300 milli
    # FGD: 300 on device 1 leaves 100 (too small for both typical pods: already lost); device 3 cannot take it;
    # on device 2 (700 -> 400) or 0 (1000 -> 700) it would cut into room a 500-milli pod still fits
    assert place(context(), make_policy("fgd"), 0) == (0, [1])
