"""PodDisruptionBudget selectors -> the pods' pdb / pdb_allowed (fragviz.sources.pdb), pure."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fragviz.errors import InputError
from fragviz.model import Snapshot
from fragviz.sources import native
from fragviz.sources.pdb import Budget, Requirement, match_pdbs, overlap_note, parse_pdb, read_pdbs

from .conftest import make_snapshot


def pdb(name, namespace="team-a", selector=None, allowed=1, *, status=True):
    obj = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": name, "namespace": namespace}, "spec": {"maxUnavailable": 1}}
    if selector is not None:
        obj["spec"]["selector"] = selector
    if status:
        obj["status"] = {"disruptionsAllowed": allowed, "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2}
    return obj


def pods(*rows):
    """(name, namespace, labels) -> the frame match_pdbs reads."""
    return pd.DataFrame({"name": [r[0] for r in rows], "namespace": [r[1] for r in rows], "labels": [r[2] for r in rows]})


def matched(frame, pdbs) -> dict:
    out = match_pdbs(frame, pdbs)
    return {name: (p, int(a)) for name, p, a in zip(frame["name"], out["pdb"], out["pdb_allowed"])}


def expr(key, operator, *values):
    return {"key": key, "operator": operator, **({"values": list(values)} if values else {})}


# -- matching -----------------------------------------------------------------------------------

def test_match_labels_all_have_to_hold():
    frame = pods(("a", "team-a", {"app": "train", "tier": "gpu"}), ("b", "team-a", {"app": "train"}),
                 ("c", "team-a", {"app": "infer", "tier": "gpu"}), ("d", "team-a", {}))
    assert matched(frame, [pdb("gpu-train", selector={"matchLabels": {"app": "train", "tier": "gpu"}}, allowed=2)]) == {
        "a": ("team-a/gpu-train", 2), "b": ("", -1), "c": ("", -1), "d": ("", -1)}


@pytest.mark.parametrize("expression, selected", [
    (expr("tier", "In", "gpu", "tpu"), {"gpu", "tpu"}),
    (expr("tier", "NotIn", "gpu"), {"tpu", "cpu", "none"}),       # NotIn selects pods without the label too
    (expr("tier", "Exists"), {"gpu", "tpu", "cpu"}),
    (expr("tier", "DoesNotExist"), {"none"}),
])
def test_match_expressions(expression, selected):
    frame = pods(("gpu", "ns", {"tier": "gpu"}), ("tpu", "ns", {"tier": "tpu"}), ("cpu", "ns", {"tier": "cpu"}),
                 ("none", "ns", {"app": "x"}))
    result = matched(frame, [pdb("p", "ns", {"matchExpressions": [expression]})])
    assert {name for name, (p, _) in result.items() if p} == selected


def test_labels_and_expressions_combine_with_and():
    selector = {"matchLabels": {"app": "db"}, "matchExpressions": [expr("role", "In", "primary", "replica"),
                                                                   expr("canary", "DoesNotExist")]}
    frame = pods(("p", "ns", {"app": "db", "role": "primary"}), ("r", "ns", {"app": "db", "role": "replica", "canary": "1"}),
                 ("w", "ns", {"app": "web", "role": "primary"}))
    assert matched(frame, [pdb("db", "ns", selector)]) == {"p": ("ns/db", 1), "r": ("", -1), "w": ("", -1)}


def test_empty_selector_selects_the_namespace_and_null_selects_nothing():
    frame = pods(("a", "team-a", {}), ("b", "team-a", {"x": "y"}), ("c", "team-b", {}))
    assert matched(frame, [pdb("all", "team-a", {}, allowed=4)]) == {
        "a": ("team-a/all", 4), "b": ("team-a/all", 4), "c": ("", -1)}
    assert matched(frame, [pdb("none", "team-a", None, allowed=4)]) == {"a": ("", -1), "b": ("", -1), "c": ("", -1)}


def test_a_pdb_in_another_namespace_does_not_match():
    frame = pods(("a", "team-a", {"app": "train"}), ("b", "team-b", {"app": "train"}))
    assert matched(frame, [pdb("train", "team-b", {"matchLabels": {"app": "train"}}, allowed=3)]) == {
        "a": ("", -1), "b": ("team-b/train", 3)}


def test_several_pdbs_on_a_pod_mean_no_evictions_and_the_first_by_name():
    frame = pods(("both", "ns", {"app": "db", "role": "primary"}), ("one", "ns", {"app": "db"}))
    budgets = [pdb("z-db", "ns", {"matchLabels": {"app": "db"}}, allowed=2),
               pdb("a-primary", "ns", {"matchLabels": {"role": "primary"}}, allowed=1)]
    out = match_pdbs(frame, budgets)
    assert out["pdb"].tolist() == ["ns/a-primary", "ns/z-db"]
    assert out["pdb_allowed"].tolist() == [0, 2] and out["pdb_matches"].tolist() == [2, 1]
    note = overlap_note(frame, out)
    assert note == ("1 pod is covered by more than one PodDisruptionBudget, which the eviction API refuses, so it "
                    "counts as 0 disruptions allowed: ns/both (ns/a-primary and 1 more)")
    assert overlap_note(frame, match_pdbs(frame, budgets[:1])) is None


def test_missing_status_means_zero_allowed():
    frame = pods(("a", "ns", {}))
    assert matched(frame, [pdb("new", "ns", {}, status=False)]) == {"a": ("ns/new", 0)}
    no_count = pdb("new", "ns", {})
    del no_count["status"]["disruptionsAllowed"]
    assert matched(frame, [no_count]) == {"a": ("ns/new", 0)}


def test_result_keeps_the_pod_index_and_dtypes():
    frame = pods(("a", "ns", {"k": "v"}), ("b", "ns", None)).set_axis([10, 20])
    out = match_pdbs(frame, [pdb("p", "ns", {"matchLabels": {"k": "v"}})])
    assert out.index.tolist() == [10, 20]
    assert str(out["pdb"].dtype) == "string" and str(out["pdb_allowed"].dtype) == "int64"
    assert match_pdbs(frame.iloc[:0], [pdb("p", "ns", {})]).empty
    assert matched(frame, []) == {"a": ("", -1), "b": ("", -1)}


def test_budgets_are_accepted_as_parsed():
    budget = Budget("ns", "p", (Requirement("k", "In", frozenset({"v"})),), 2)
    assert parse_pdb(pdb("p", "ns", {"matchLabels": {"k": "v"}}, allowed=2)) == budget
    assert matched(pods(("a", "ns", {"k": "v"})), [budget]) == {"a": ("ns/p", 2)}


LABEL = st.sampled_from(["a", "b", "c"])
VALUE = st.sampled_from(["1", "2"])
EXPRESSION = st.one_of(
    st.builds(lambda k, op, vs: expr(k, op, *sorted(vs)), LABEL, st.sampled_from(["In", "NotIn"]),
              st.sets(VALUE, min_size=1)),
    st.builds(lambda k, op: expr(k, op), LABEL, st.sampled_from(["Exists", "DoesNotExist"])))
SELECTOR = st.one_of(st.none(), st.fixed_dictionaries({}, optional={
    "matchLabels": st.dictionaries(LABEL, VALUE, max_size=2), "matchExpressions": st.lists(EXPRESSION, max_size=3)}))


def selects(selector, labels) -> bool:
    """The selector semantics written out plainly (the oracle)."""
    if selector is None:
        return False
    ok = all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())
    for e in selector.get("matchExpressions", []):
        has, value = e["key"] in labels, labels.get(e["key"])
        ok &= {"In": has and value in e.get("values", []), "NotIn": not has or value not in e.get("values", []),
               "Exists": has, "DoesNotExist": not has}[e["operator"]]
    return ok


@settings(max_examples=150, deadline=None)
@given(pod_labels=st.lists(st.tuples(st.sampled_from(["x", "y"]), st.dictionaries(LABEL, VALUE, max_size=3)), max_size=8),
       selectors=st.lists(st.tuples(st.sampled_from(["x", "y"]), SELECTOR, st.integers(0, 3)), max_size=4))
def test_matching_agrees_with_the_plain_reading(pod_labels, selectors):
    frame = pods(*[(f"p{i}", ns, labels) for i, (ns, labels) in enumerate(pod_labels)])
    budgets = [pdb(f"b{i}", ns, sel, allowed) for i, (ns, sel, allowed) in enumerate(selectors)]
    out = match_pdbs(frame, budgets)
    for i, (ns, labels) in enumerate(pod_labels):
        covering = [(f"b{j}", allowed) for j, (bns, sel, allowed) in enumerate(selectors)
                    if bns == ns and selects(sel, labels)]
        assert out["pdb_matches"].iloc[i] == len(covering)
        if not covering:
            assert (out["pdb"].iloc[i], out["pdb_allowed"].iloc[i]) == ("", -1)
        else:
            assert out["pdb"].iloc[i] == f"{ns}/{min(covering)[0]}"
            assert out["pdb_allowed"].iloc[i] == (covering[0][1] if len(covering) == 1 else 0)


# -- malformed objects ----------------------------------------------------------------------------

@pytest.mark.parametrize("change, field, message", [
    (lambda o: o["spec"].update(selector={"matchExpressions": [expr("k", "Matches", "v")]}),
     "spec.selector.matchExpressions[0].operator", "unknown operator 'Matches'; expected one of In, NotIn, Exists"),
    (lambda o: o["spec"].update(selector={"matchExpressions": [expr("k", "In")]}),
     "spec.selector.matchExpressions[0].values", "operator In needs at least one value"),
    (lambda o: o["spec"].update(selector={"matchExpressions": [expr("k", "Exists", "v")]}),
     "spec.selector.matchExpressions[0].values", "operator Exists takes no values"),
    (lambda o: o["spec"].update(selector={"matchExpressions": [{"key": "k", "operator": "In", "values": "v"}]}),
     "spec.selector.matchExpressions[0].values", "expected a list of strings"),
    (lambda o: o["spec"].update(selector={"matchExpressions": [{"operator": "Exists"}]}),
     "spec.selector.matchExpressions[0].key", "expected a label key"),
    (lambda o: o["spec"].update(selector={"matchExpressions": {"key": "k"}}),
     "spec.selector.matchExpressions", "expected a list"),
    (lambda o: o["spec"].update(selector={"matchLabels": {"app": 3}}), "spec.selector.matchLabels.app", "expected a label value"),
    (lambda o: o["spec"].update(selector="app=x"), "spec.selector", "expected an object"),
    (lambda o: o["status"].update(disruptionsAllowed=-1), "status.disruptionsAllowed", "expected a whole number >= 0"),
    (lambda o: o["status"].update(disruptionsAllowed="2"), "status.disruptionsAllowed", "expected a whole number >= 0"),
    (lambda o: o["status"].update(disruptionsAllowed=True), "status.disruptionsAllowed", "expected a whole number >= 0"),
    (lambda o: o["metadata"].pop("name"), "metadata.name", "expected the PodDisruptionBudget's name"),
])
def test_malformed_pdb_names_file_item_and_field(change, field, message):
    bad = pdb("bad", "ns", {})
    change(bad)
    with pytest.raises(InputError) as caught:
        read_pdbs([pdb("good", "ns", {}), bad], file="pdbs.json")
    error = caught.value
    assert (error.file, error.row, error.field) == ("pdbs.json", 2, field)
    assert message in error.message
    assert str(error).startswith(f"pdbs.json, row 2, field '{field}': poddisruptionbudget '")


def test_every_malformed_pdb_at_once():
    bad_op = pdb("op", "ns", {"matchExpressions": [expr("k", "Like", "v")]})
    with pytest.raises(InputError) as caught:
        match_pdbs(pods(("a", "ns", {})), [bad_op, "not an object", pdb("ok", "ns", {})], file="pdbs.json")
    text = str(caught.value)
    assert text.startswith("pdbs.json: 2 problems in the PodDisruptionBudgets")
    assert "pdbs.json, row 1, field 'spec.selector.matchExpressions[0].operator': poddisruptionbudget 'ns/op'" in text
    assert "pdbs.json, row 2: expected a PodDisruptionBudget object, got str" in text


# -- the model's columns ----------------------------------------------------------------------

def test_model_defaults_and_validation():
    snap = make_snapshot([{"name": "n1", "gpu_count": 1}], [{"name": "p", "node": "n1"}])
    assert (snap.pods["pdb"].tolist(), snap.pods["pdb_allowed"].tolist()) == ([""], [-1])
    assert str(snap.pods["pdb"].dtype) == "string" and str(snap.pods["pdb_allowed"].dtype) == "int64"
    nodes = pd.DataFrame({"name": ["n1"], "cpu_milli": [1000], "memory_mib": [1024.0]})
    good = pd.DataFrame({"name": ["p", "q"], "cpu_milli": [1, 1], "memory_mib": [1.0, 1.0],
                         "pdb": ["default/web", None], "pdb_allowed": [2, None]})
    built = Snapshot.build(nodes, good)
    assert built.pods["pdb"].tolist() == ["default/web", ""] and built.pods["pdb_allowed"].tolist() == [2, -1]
    for pdb_name, allowed, expected in (("default/web", -2, "-2 is below -1"), ("", 3, "expected -1 exactly when pdb is empty"),
                                        ("default/web", -1, "expected -1 exactly when pdb is empty")):
        bad = good.assign(pdb=[pdb_name, ""], pdb_allowed=[allowed, -1])
        with pytest.raises(InputError, match=expected) as caught:
            Snapshot.build(nodes, bad, file="pods.csv")
        assert caught.value.row == 1 and caught.value.field == "pdb_allowed"


def test_native_snapshot_round_trips_the_columns_and_reads_files_without_them():
    nodes = pd.DataFrame({"name": ["n1"], "cpu_milli": [1000], "memory_mib": [1024.0]})
    snap = Snapshot.build(nodes, pd.DataFrame({"name": ["p", "q"], "cpu_milli": [1, 1], "memory_mib": [1.0, 1.0],
                                               "pdb": ["default/web", ""], "pdb_allowed": [0, -1]}), "2026-01-01")
    back = native.load(native.dumps(snap).encode(), name="snap.json")
    pd.testing.assert_frame_equal(back.pods, snap.pods)
    old = native.dumps(snap).replace(',"pdb":"default/web","pdb_allowed":0', "").replace(',"pdb":"","pdb_allowed":-1', "")
    assert '"pdb"' not in old
    legacy = native.load(old.encode(), name="old.json")
    assert legacy.pods["pdb"].tolist() == ["", ""] and legacy.pods["pdb_allowed"].tolist() == [-1, -1]
