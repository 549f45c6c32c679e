"""Kubernetes for the spec, Prometheus for history and utilisation: the real kubernetes client
against the loopback API server, and the real Prometheus of tests/promfixture.py, describing
the same cluster."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fragviz.sources import k8s_objects
from fragviz.sources.kubernetes import KubernetesSettings, KubernetesSource
from fragviz.sources.merge import merge, with_device_map
from fragviz.sources.promclient import PrometheusSettings
from fragviz.sources.prometheus import PrometheusSource
from fragviz.summary import summary_from_snapshot

from .k8s_api_server import api_server, write_kubeconfig


@pytest.fixture(scope="module")
def prom(prom_server):
    return PrometheusSource(PrometheusSettings(url=prom_server.url, retries=0))


@pytest.fixture(scope="module")
def cluster_api(prom):
    """The API server's view of the fixture cluster: the same nodes and pods, but without any
    device index (the Kubernetes API does not say which GPU a pod uses)."""
    nodes, pods = k8s_objects.to_kubectl_json(prom.snapshot())
    for pod in pods["items"]:
        pod["metadata"].get("annotations", {}).pop("alibabacloud.com/gpu-index", None)
    with api_server(nodes["items"], pods["items"], token="t") as server:
        yield server


def kube_snapshot(server, tmp_path):
    config = write_kubeconfig(tmp_path / "config", {"c": (server.url, "t")})
    with KubernetesSource(KubernetesSettings(kubeconfig=str(config))) as source:
        return source.snapshot()


def test_devices_from_dcgm_replace_the_guess(cluster_api, prom, prom_truth, tmp_path):
    snap = kube_snapshot(cluster_api, tmp_path)
    merged, history, _notes = merge(snap, prom, history_days=1)
    held = prom_truth.gpus[prom_truth.gpus["pod"] != ""].groupby(["namespace", "pod"])["gpu"].agg(
        lambda s: "-".join(str(g) for g in sorted(int(x) for x in s)))
    pods = merged.pods.set_index(["namespace", "name"])
    for key, devices in held.items():
        assert pods.loc[key, "devices"] == devices, key
    assert "history and utilisation from prometheus" in merged.source
    assert history["gpu_util_pct"].shape[1] == len(prom_truth.gpus)
    summary = summary_from_snapshot(merged, history)
    idle = {(r["node"], r["pods"]) for r in summary["idle_allocated"]}
    assert idle == {(node, pod) for node, _, _, pod in prom_truth.idle_allocated}
    assert summary["gpus_requested"] == prom_truth.gpus_requested
    assert {r.method for r in cluster_api.requests} == {"GET"}


def test_a_contradicting_device_map_keeps_the_kubernetes_assignment(cluster_api, prom, tmp_path):
    snap = kube_snapshot(cluster_api, tmp_path)
    devices = prom.devices()
    devices.loc[devices["pod"] != "", "gpu"] = 0          # every pod on device 0: over-subscribed
    kept, notes = with_device_map(snap, devices)
    assert kept is snap and any("contradicts" in n for n in notes)


def test_cli_summary_kubernetes_with_prometheus(cluster_api, prom_server, prom_truth, tmp_path):
    config = write_kubeconfig(tmp_path / "config", {"c": (cluster_api.url, "t")})
    out = subprocess.run([sys.executable, "-m", "fragviz.cli", "summary", "--source", "kubernetes", "--kubeconfig",
                          str(config), "--prometheus-url", prom_server.url, "--json"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["gpus_requested"] == prom_truth.gpus_requested
    assert report["idle_allocated_gpus"] == 3
