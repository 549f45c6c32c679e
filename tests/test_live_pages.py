"""The Data page's live sources through Streamlit's AppTest: a real Prometheus (through a
fault proxy) and the real kubernetes client against the loopback API server. A failed
refresh shows a clear error and keeps the last good data on screen."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import ROOT
from .k8s_api_server import api_server, write_kubeconfig
from .test_kubernetes_source import SMALL_NODES, SMALL_PODS, TOKEN


def open_data_page(kind: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data.py").run()
    at.radio[0].set_value(kind).run()
    assert not at.exception, at.exception
    return at


def widget(elements, label: str):
    return next(e for e in elements if e.label == label)


def caption(at) -> str:
    """The source caption as shown (markdown escapes removed)."""
    return at.caption[0].value.replace("\\", "")


def metric(at, label: str) -> str:
    return widget(at.metric, label).value


def test_prometheus_load_then_a_failed_refresh_keeps_the_data(fault_proxy, prom_truth):
    at = open_data_page("prometheus")
    widget(at.text_input, "Prometheus URL").set_value(fault_proxy.url).run()
    widget(at.button, "Test connection").click().run()
    assert any("Connected" in s.value for s in at.success), [s.value for s in at.success]
    assert any("no nvidia.com/gpu.product label" in w.value for w in at.warning)
    widget(at.button, "Load from Prometheus").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert metric(at, "Nodes") == str(len(prom_truth.nodes))
    assert "prometheus: 127.0.0.1" in caption(at)
    assert any("PromQL" in e.label for e in at.expander)

    fault_proxy.respond(503, "Prometheus is restarting")
    widget(at.button, "Refresh from the live source").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "answered HTTP 503" in errors and "Prometheus is restarting" in errors and "unchanged" in errors
    assert metric(at, "Nodes") == str(len(prom_truth.nodes)) and "prometheus: 127.0.0.1" in caption(at)
    assert not at.exception

    at.switch_page("pages/overview.py").run()
    assert not at.exception
    total = widget(at.metric, "GPUs total")
    assert "PromQL (node_allocatable)" in total.proto.help and "kube_node_status_allocatable" in total.proto.help
    idle = widget(at.metric, "Allocated but idle")
    assert idle.value == "3" and "DCGM_FI_DEV_GPU_UTIL" in idle.proto.help          # a part of "GPUs wasted", whole GPUs


def test_prometheus_unreachable_shows_an_error_not_a_traceback():
    at = open_data_page("prometheus")
    widget(at.text_input, "Prometheus URL").set_value("http://127.0.0.1:9").run()
    widget(at.button, "Load from Prometheus").click().run()
    assert not at.exception
    assert "cannot reach Prometheus" in " ".join(e.value for e in at.error)
    assert "demo cluster" in caption(at)


def test_kubernetes_context_and_load(tmp_path):
    with api_server(SMALL_NODES, SMALL_PODS, token=TOKEN) as server:
        config = write_kubeconfig(tmp_path / "config", {"alpha": (server.url, TOKEN), "beta": (server.url, "bad")},
                                  current="beta")
        at = open_data_page("kubernetes")
        widget(at.text_input, "Kubeconfig file").set_value(str(config)).run()
        context = widget(at.selectbox, "Context")
        assert context.options == ["alpha", "beta"] and context.value == "beta"
        widget(at.button, "Load from the Kubernetes API").click().run()
        assert "401" in " ".join(e.value for e in at.error)              # beta's token is refused
        context.set_value("alpha").run()
        widget(at.button, "Test connection").click().run()
        assert any("list pods yes" in s.value for s in at.success)
        widget(at.button, "Load from the Kubernetes API").click().run()
        assert not at.error and not at.exception
        assert metric(at, "Nodes") == "3" and "kubernetes: context alpha" in caption(at)
        assert {r.method for r in server.requests} == {"GET"}


@pytest.mark.parametrize("source", ["prometheus", "kubernetes"])
def test_configured_start_up_source_that_fails_falls_back_to_the_demo(monkeypatch, source):
    monkeypatch.setenv("FRAGVIZ_SOURCE", source)
    monkeypatch.setenv("FRAGVIZ_PROMETHEUS_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FRAGVIZ_PROMETHEUS_RETRIES", "0")
    monkeypatch.setenv("FRAGVIZ_KUBECONFIG", "/nonexistent/kubeconfig")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert "demo cluster" in caption(at)
    assert "could not be loaded" in " ".join(w.value for w in at.warning)


def test_configured_start_up_source_opens_the_dashboard_on_it(monkeypatch, prom_server, prom_truth):
    monkeypatch.setenv("FRAGVIZ_SOURCE", "prometheus")
    monkeypatch.setenv("FRAGVIZ_PROMETHEUS_URL", prom_server.url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception and "prometheus: 127.0.0.1" in caption(at)
    assert widget(at.metric, "Allocated but idle").value == "3"          # a part of "GPUs wasted", whole GPUs
