"""Why a what-if KPI changed (planning.scenario_explain), the What-if page's link tokens
(planning.scenario_share), the Fragmentation page's ?pool= / ?nodes= (whatif_view.focus) and the
cordoned-pool marks: hand-made clusters with the reasoning in comments, plus the demo."""

from __future__ import annotations

import base64
import zlib

import pandas as pd
import pytest

from fragviz.frag import JobShape, analyse, default_job_shapes, job_mix_workload
from fragviz.planning import scenario_explain as why
from fragviz.planning import scenario_share as share
from fragviz.planning.scenario import AddJobs, AddNodes, CordonNodes, RemoveNodes, Scenario
from fragviz.planning.scenario_fields import ScenarioError
from fragviz.views import whatif_view

from .conftest import make_snapshot

# A quarter of the typical pods ask for no GPU; three quarters for one whole A100.
MIX = job_mix_workload(pd.DataFrame([
    {"cpu_milli": 2000, "memory_mib": 1024, "gpu_count": 0, "gpu_milli": 0, "gpu_spec": "", "weight": 1},
    {"cpu_milli": 2000, "memory_mib": 1024, "gpu_count": 1, "gpu_milli": 1000, "gpu_spec": "A100", "weight": 3}]))
ONE = JobShape("1x GPU", 1, 1000, 2000, 1024)
SHAPES = [ONE, JobShape("4x GPU", 4, 1000, 8000, 4096)]


@pytest.fixture
def cluster():
    nodes = [{"name": "n1", "pool": "a", "gpu_count": 4}, {"name": "n2", "pool": "a", "gpu_count": 4},
             {"name": "n3", "pool": "b", "gpu_count": 4}]
    pods = [{"name": "p1", "namespace": "t", "owner_kind": "Job", "node": "n1", "gpu_count": 1, "gpu_milli": 1000},
            {"name": "p2", "namespace": "t", "owner_kind": "Job", "node": "n3", "gpu_count": 4, "gpu_milli": 1000}]
    return make_snapshot(nodes, pods)


def pair(snap, *edits):
    after = Scenario("s", edits).apply(snap)
    return analyse(snap, MIX, SHAPES), analyse(after, MIX, SHAPES)


def test_new_empty_nodes_explain_their_fragment_by_the_pods_that_need_no_gpu(cluster):
    before, after = pair(cluster, AddNodes(2, "A100", 4, 64_000, 262_144, "a"))
    # 2 new nodes x 4 idle GPUs = 8 idle GPUs; the CPU-only quarter of the mix can use none of them,
    # the A100 pods can use all: 8 x 0.25 = 2 fragmented GPUs, all on the new nodes.
    part = why.parts(before, after, "gpus_fragmented")
    assert part == pytest.approx({"added": 2.0, "removed": 0.0, "unusable": 0.0, "other": 0.0})
    assert sum(part.values()) == pytest.approx(after.frag.amount / 1000 - before.frag.amount / 1000)
    text = why.explain_gpu(before, after, "gpus_fragmented")
    assert text.startswith("+2 GPUs, all on the 2 new nodes")
    assert "8 idle GPUs" in text and "25% of the typical pods ask for no GPU" in text and "not lost capacity" in text
    jobs = why.explain_jobs(before, after, ONE, SHAPES)
    assert jobs.startswith("+8 1x GPU jobs, all on the 2 new nodes") and "4x GPU +2" in jobs


def test_cordoning_a_pool_moves_its_idle_gpus_to_unusable_and_out_of_jobs_that_fit(cluster):
    before, after = pair(cluster, CordonNodes(pools=("a",)))
    # pool a: n1 has 3 idle GPUs, n2 4: 7 idle GPUs no new pod may use; 7 one-GPU jobs no longer fit.
    assert why.parts(before, after, "gpus_unavailable")["unusable"] == pytest.approx(7.0)
    assert why.explain_gpu(before, after, "gpus_unavailable").startswith("+7 GPUs, all on the 2 cordoned nodes")
    frag = why.explain_gpu(before, after, "gpus_fragmented")
    assert "2 cordoned nodes do not change it" in frag and "Idle on unusable nodes" in frag
    assert why.explain_jobs(before, after, ONE).startswith("−7 1x GPU jobs, all on the 2 cordoned or not Ready nodes")
    assert whatif_view.cordoned_marks(cluster, Scenario("s", (CordonNodes(pools=("a",)),)).apply(cluster)) == [
        "pool 'a': all 2 nodes cordoned (8 GPUs)"]
    assert whatif_view.cordoned_marks(cluster, Scenario("s", (CordonNodes(nodes=("n2",)),)).apply(cluster)) == [
        "pool 'a': 1 of 2 nodes cordoned (4 GPUs): n2"]


def test_removing_a_node_and_adding_jobs_split_pending_gpus_by_pod(cluster):
    before, after = pair(cluster, RemoveNodes(nodes=("n3",)), AddJobs("j", 2, 1, 1000, 1000, 1024))
    # p2 (4 GPUs) loses its node and waits; the 2 new one-GPU pods wait too: +6 pending GPUs.
    text = why.explain_pending(before, after)
    assert text.startswith("+6 GPUs: +4 from pods of removed nodes") and "+2 from pods the scenario adds" in text
    assert why.explain_gpu(before, after, "gpus_allocated") == "−4 GPUs, all with the 1 removed node: their pods wait as pending."


def test_kpi_cards_show_whole_gpus_and_say_why(demo):
    shapes = default_job_shapes(demo.pods)
    after = Scenario("buy", (AddNodes(2, "NVIDIA-H100-80GB-HBM3", 8, 96_000, 1024 * 1024, "h100-train"),)).apply(demo)
    comparison = whatif_view.compare(demo, after, None, shapes, False)
    cards = {c.key: c for c in whatif_view.kpi_deltas(comparison.table, shapes, comparison.analysis_before,
                                                      comparison.analysis_after)}
    assert "gpus_unavailable" in cards and cards["gpus_unavailable"].delta_text() == "no change"
    frag = cards["gpus_fragmented"]
    assert frag.change > 1 and "." not in frag.value_text() and "." not in frag.delta_text().split(" vs ")[0]
    assert "new nodes" in frag.why and "ask for no GPU" in frag.why and "Why it changed" in frag.help_text()
    assert cards["jobs_fit:8x GPU"].why.startswith("+2 8x GPU jobs")
    assert whatif_view.whole(0.3, signed=True) == "+0.3" and whatif_view.whole(4.84) == "5"


# -- link tokens ---------------------------------------------------------------------------------

def test_a_scenario_survives_a_link_and_saved_ones_too():
    one = Scenario("buy-h100", (AddNodes(4, "H100", 8, 96_000, 1024 * 1024, "h100-new"), CordonNodes(pools=("a",))),
                   "why: more room")
    token = share.encode(one)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert share.decode(token) == one
    two = Scenario("other")
    assert share.decode_many(share.encode_many([one, two])) == [one, two]
    assert share.token_of(f"http://host:8501/whatif?pool=a&scenario={token}") == token
    assert share.token_of(f"  {token} ") == token


@pytest.mark.parametrize("token, words", [
    ("", "is empty"),
    ("abc$def", "contains '$'"),
    ("x" * (share.MAX_TOKEN + 1), "characters long"),
    ("QUJD", "does not decode"),                                                   # base64 of "ABC", not zlib
    (base64.urlsafe_b64encode(zlib.compress(b"\0" * (share.MAX_TEXT + 10))).decode().rstrip("="), "expands to more"),
])
def test_a_bad_token_is_named_and_kept_out(token, words):
    with pytest.raises(ScenarioError) as err:
        share.decode(token)
    assert words in str(err.value) and "link parameter 'scenario'" in str(err.value)


def test_a_token_with_a_bad_field_names_the_edit_and_field():
    bad = share._pack("name: x\nedits:\n  - add_nodes: {count: two, gpu_model: H100, gpu_count: 8, cpu: 1, memory_gib: 1}\n")
    with pytest.raises(ScenarioError) as err:
        share.decode(bad)
    assert "edit 1" in str(err.value) and "count" in str(err.value)
    with pytest.raises(ScenarioError, match="has no 'scenario=' part"):
        share.token_of("http://host/whatif?pool=a")


# -- the Fragmentation page's link ---------------------------------------------------------------

def test_focus_preselects_a_known_pool_or_nodes_and_warns_about_unknown_ones(cluster):
    choices = whatif_view.choices(cluster)
    pools = {"n1": "a", "n2": "a", "n3": "b"}
    assert whatif_view.focus(choices, pools, pool="a") == whatif_view.Focus(pool="a", scope_pool="a")
    assert whatif_view.focus(choices, pools, pool="a").note == "Opened from Fragmentation: pool 'a'."
    assert whatif_view.focus(choices, pools, nodes="n1, n2").scope_pool == "a"
    assert whatif_view.focus(choices, pools, nodes="n1,n3") == whatif_view.Focus(nodes=("n1", "n3"))
    unknown = whatif_view.focus(choices, pools, pool="zzz")
    assert unknown.pool == "" and "'zzz'" in unknown.warning and "nothing was preselected" in unknown.warning
    assert "'nope'" in whatif_view.focus(choices, pools, nodes="n1,nope").warning
    assert whatif_view.focus(choices, pools) == whatif_view.Focus()
