"""The GPU-model spec "A|B" ("" = any model) has one rule, fragviz.model.parse_gpu_spec, and the
fragmentation measure, the placement cluster, its node fragmentation, plan validation and
scenarios all read a spec the same way through it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fragviz.frag import accessible
from fragviz.model import parse_gpu_spec
from fragviz.placement.cluster import Cluster
from fragviz.placement.nodefrag import FragModel
from fragviz.planning.scenario import Scenario
from fragviz.planning.validate import model_allowed


@pytest.mark.parametrize("spec, models", [
    ("", ()),
    ("A100", ("A100",)),
    ("A100|H100", ("A100", "H100")),
    (" A100 | H100 ", ("A100", "H100")),      # spaces around a part are not part of the model name
    ("A100||H100|", ("A100", "H100")),        # empty parts are dropped
    ("|", ()),                                # nothing but bars: any model
    ("  ", ()),
    (None, ()),
    (float("nan"), ()),                       # a missing value in a frame
    (pd.NA, ()),
])
def test_parse_gpu_spec(spec, models):
    assert parse_gpu_spec(spec) == models


MODELS = np.array(["A100", "H100", "T4", ""], dtype=object)      # the last node has no GPU model
SPECS = ["", "A100 | H100", "T4|", " | "]
# who may use which node: "" and " | " any node (even one without a model), the others their models only
EXPECTED = np.array([[True, True, False, True],
                     [True, True, False, True],
                     [True, False, True, True],
                     [True, False, False, True]])


def test_every_reader_of_a_spec_agrees():
    assert (accessible(MODELS, pd.Series(SPECS)) == EXPECTED).all()
    assert np.array([[model_allowed(spec, model) for spec in SPECS] for model in MODELS]).tolist() == EXPECTED.tolist()
    nodes = pd.DataFrame({"name": list("abcd"), "cpu_milli": 8000, "memory_mib": 32768.0, "gpu_count": 1,
                          "gpu_model": MODELS})
    cluster = Cluster.from_nodes(nodes)
    assert np.column_stack([cluster.model_allowed(spec) for spec in SPECS]).tolist() == EXPECTED.tolist()
    workload = pd.DataFrame({"cpu_milli": 1000, "memory_mib": 1024.0, "gpu_count": 1, "gpu_milli": 500,
                             "gpu_spec": SPECS, "weight": 0.25})
    assert FragModel(workload, list(MODELS)).access.tolist() == EXPECTED.tolist()


def test_a_scenario_writes_the_spec_it_parsed():
    scenario = Scenario.from_yaml("name: s\nedits:\n  - add_jobs: {name: j, count: 1, gpus: 1, milli_per_gpu: 1000, cpu: 1, "
                                  "memory_gib: 1, gpu_models: ' A100 || H100 '}\n")
    assert scenario.edits[0].gpu_spec == "A100|H100"
