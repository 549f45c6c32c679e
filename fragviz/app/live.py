"""Streamlit glue for the live sources (Prometheus, the Kubernetes API): settings from
``.streamlit/secrets.toml`` or the environment, cached clients and results, refresh.

Clients live in ``st.cache_resource`` (one per settings), results in ``st.cache_data`` with a
TTL; a refresh bumps a per-session counter that is part of the cache key. Secrets are never
put on screen: forms show whether a token is configured, not the token.
"""

from __future__ import annotations

import os

import streamlit as st

from ..errors import FragvizError
from ..model import History, Snapshot
from ..sources.kubernetes import KubernetesSettings, KubernetesSource  # noqa: F401  (the Data page's Test connection)
from ..sources.load import DEFAULT_HISTORY_DAYS, Loaded, load
from ..sources.promclient import PrometheusClient, PrometheusSettings
from ..sources.prometheus import Preflight, PrometheusSource
from ..sources.promql import Catalog

TTL_S = 300


def configured_prometheus() -> PrometheusSettings | None:
    """Settings from the ``[prometheus]`` table of secrets.toml, else FRAGVIZ_PROMETHEUS_*."""
    try:
        table = st.secrets.get("prometheus")
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        table = None
    if table and table.get("url"):
        return PrometheusSettings.from_mapping(dict(table))
    return PrometheusSettings.from_env(os.environ)


def configured_catalog() -> str | None:
    return os.environ.get("FRAGVIZ_PROMQL_CATALOG") or None


@st.cache_resource(show_spinner=False, max_entries=8)
def prometheus_client(settings: PrometheusSettings) -> PrometheusClient:
    """One HTTP client (connection pool) per settings, shared by the sessions using them."""
    return PrometheusClient(settings)


def prometheus_source(settings: PrometheusSettings, catalog_path: str | None) -> PrometheusSource:
    """A fresh source per request (it records the queries it sent), on the shared client."""
    return PrometheusSource(settings, Catalog.load(catalog_path), client=prometheus_client(settings))


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=8)
def prometheus_data(settings: PrometheusSettings, history_days: float, catalog_path: str | None,
                    nonce: int) -> Loaded:
    """Pre-flight, snapshot, history and their PromQL in one cached result (fragviz.sources.load)."""
    del nonce  # only part of the cache key: a refresh asks again
    return load("prometheus", settings, history_days, catalog_path, client=prometheus_client(settings))


def load_prometheus(settings: PrometheusSettings, history_days: float, catalog_path: str | None):
    """(snapshot, history, {"queries", "warnings"}) for the Data page's loader."""
    return unpack(prometheus_data(settings, history_days, catalog_path, refresh_nonce()))


def preflight(settings: PrometheusSettings, catalog_path: str | None) -> Preflight:
    return prometheus_source(settings, catalog_path).preflight()


@st.cache_data(ttl=TTL_S, show_spinner=False, max_entries=8)
def kubernetes_data(settings: KubernetesSettings, prometheus: PrometheusSettings | None, history_days: float,
                    catalog_path: str | None, nonce: int) -> Loaded:
    """The Kubernetes snapshot; with Prometheus settings also DCGM's device map and the history
    (Kubernetes for the spec, Prometheus for history and utilisation; fragviz.sources.load)."""
    del nonce
    client = prometheus_client(prometheus) if prometheus is not None else None
    return load("kubernetes", settings, history_days, catalog_path, prometheus=prometheus, client=client)


def load_kubernetes(settings: KubernetesSettings, prometheus: PrometheusSettings | None, history_days: float,
                    catalog_path: str | None):
    """(snapshot, history, {"queries", "warnings"}) for the Data page's loader."""
    return unpack(kubernetes_data(settings, prometheus, history_days, catalog_path, refresh_nonce()))


def unpack(loaded: Loaded) -> tuple[Snapshot, History | None, dict]:
    """(snapshot, history, {"queries", "warnings", "history_from"}), as the Data page's loader takes them."""
    return loaded.snapshot, loaded.history, {"queries": loaded.queries, "warnings": loaded.warnings,
                                             "history_from": loaded.history_from}


def refresh_nonce() -> int:
    return int(st.session_state.get("refresh_nonce", 0))


def remember(kind: str, **details) -> None:
    """What the session's data came from, so Refresh can ask again."""
    st.session_state["live"] = {"kind": kind, **details}


def live() -> dict | None:
    return st.session_state.get("live")


def reload(bump: bool = True) -> tuple[Snapshot, History | None, dict]:
    """Fetch the session's live source again (a refresh skips the cache)."""
    info = live()
    if info is None:
        raise FragvizError("the data on screen does not come from a live source")
    if bump:
        st.session_state["refresh_nonce"] = refresh_nonce() + 1
    if info["kind"] == "prometheus":
        return unpack(prometheus_data(info["settings"], info["history_days"], info.get("catalog"), refresh_nonce()))
    return unpack(kubernetes_data(info["settings"], info.get("prometheus"), info.get("history_days", DEFAULT_HISTORY_DAYS),
                                  info.get("catalog"), refresh_nonce()))


def startup_source() -> tuple[str, dict] | None:
    """FRAGVIZ_SOURCE=prometheus|kubernetes opens the dashboard on that source."""
    kind = os.environ.get("FRAGVIZ_SOURCE", "").strip().lower()
    if kind == "prometheus":
        settings = configured_prometheus()
        if settings is None:
            raise FragvizError("FRAGVIZ_SOURCE=prometheus but no Prometheus URL is configured "
                               "(FRAGVIZ_PROMETHEUS_URL or [prometheus] url in secrets.toml)")
        return kind, {"settings": settings, "history_days": float(os.environ.get("FRAGVIZ_HISTORY_DAYS", "7")),
                      "catalog": configured_catalog()}
    if kind == "kubernetes":
        return kind, {"settings": KubernetesSettings.from_env(os.environ), "prometheus": configured_prometheus(),
                      "history_days": float(os.environ.get("FRAGVIZ_HISTORY_DAYS", "7")), "catalog": configured_catalog()}
    if kind not in ("", "demo"):
        raise FragvizError(f"FRAGVIZ_SOURCE='{kind}' is not one of demo, prometheus, kubernetes")
    return None


# -- forms (Data page) -------------------------------------------------------------------------

FLAVOUR_LABELS = {"prometheus": "Prometheus", "thanos": "Thanos Query", "mimir": "Grafana Mimir (/prometheus)",
                  "victoriametrics": "VictoriaMetrics cluster (/select/0/prometheus)"}


def prometheus_form() -> tuple[PrometheusSettings | None, float, str | None]:
    """The Prometheus connection form, prefilled from secrets/environment (secrets are never
    shown: a blank secret field keeps the configured one). Returns (settings or None when the
    entries are incomplete, history days, catalog file)."""
    base = configured_prometheus()
    c1, c2 = st.columns([3, 2])
    url = c1.text_input("Prometheus URL", value=base.url if base else "", placeholder="http://prometheus:9090",
                        help="Base URL. For Mimir and VictoriaMetrics the flavour adds its API path.")
    flavours = list(FLAVOUR_LABELS)
    flavour = c2.selectbox("Flavour", flavours, index=flavours.index(base.flavour) if base else 0,
                           format_func=FLAVOUR_LABELS.get)
    c1, c2, c3 = st.columns(3)
    token = c1.text_input("Bearer token", type="password",
                          placeholder="configured (kept)" if base and base.token else "none",
                          help="Leave blank to keep the token from secrets.toml / FRAGVIZ_PROMETHEUS_TOKEN.")
    username = c2.text_input("Basic-auth user", value=base.username if base else "")
    password = c3.text_input("Basic-auth password", type="password",
                             placeholder="configured (kept)" if base and base.password else "none")
    with st.expander("TLS, headers, cluster selector, history"):
        c1, c2 = st.columns(2)
        verify = c1.checkbox("Verify TLS certificates", value=base.verify if base else True)
        ca_file = c2.text_input("CA bundle file", value=base.ca_file if base else "")
        headers = st.text_input("Extra headers (JSON)", value=_headers_json(base),
                                placeholder='{"X-Scope-OrgID": "team-a"}', help="e.g. the tenant header of Mimir.")
        c1, c2 = st.columns(2)
        cluster_label = c1.text_input("Cluster label", value=base.cluster_label if base else "",
                                      help="For a Prometheus shared by several clusters, e.g. cluster.")
        cluster = c2.text_input("Cluster", value=base.cluster if base else "")
        days = st.slider("History to load (days)", 1, 90, 7)
        catalog = st.text_input("PromQL catalog override (YAML file)", value=configured_catalog() or "",
                                help="Same shape as fragviz/sources/queries.yaml; entries replace the defaults.")
    if not url:
        return None, float(days), catalog or None
    try:
        settings = PrometheusSettings.from_mapping({
            "url": url, "flavour": flavour, "token": token or (base.token if base else ""), "username": username,
            "password": password or (base.password if base else ""), "verify": verify, "ca_file": ca_file,
            "headers": headers or "{}", "cluster_label": cluster_label, "cluster": cluster})
    except FragvizError as exc:
        st.error(str(exc), icon=":material/error:")
        return None, float(days), catalog or None
    return settings, float(days), catalog or None


def _headers_json(settings: PrometheusSettings | None) -> str:
    import json
    return json.dumps(dict(settings.headers)) if settings and settings.headers else ""


def kubernetes_form() -> KubernetesSettings:
    """Kubeconfig file and context, or the pod's service account."""
    from ..sources.kubernetes import list_contexts
    base = KubernetesSettings.from_env(os.environ)
    in_cluster = st.checkbox("In-cluster (the pod's service account)", value=base.in_cluster)
    if in_cluster:
        return KubernetesSettings(in_cluster=True)
    kubeconfig = st.text_input("Kubeconfig file", value=base.kubeconfig or "",
                               placeholder=str(base.kubeconfig_path), help="Blank: KUBECONFIG or ~/.kube/config.")
    try:
        contexts, current = list_contexts(kubeconfig or None)
    except FragvizError as exc:
        st.warning(str(exc), icon=":material/warning:")
        contexts, current = [], None
    context = st.selectbox("Context", contexts, index=contexts.index(current) if current in contexts else 0) \
        if contexts else None
    return KubernetesSettings(kubeconfig=kubeconfig or None, context=context)


def history_from_prometheus_form() -> tuple[PrometheusSettings | None, float]:
    """Optional Prometheus for history and utilisation next to the Kubernetes spec."""
    base = configured_prometheus()
    c1, c2 = st.columns([3, 1])
    url = c1.text_input("Prometheus for history and utilisation (optional)", value=base.url if base else "",
                        placeholder="http://prometheus:9090",
                        help="Kubernetes gives the spec; Prometheus adds DCGM's pod-to-GPU map and the history. "
                             "Authentication and headers come from secrets.toml / FRAGVIZ_PROMETHEUS_*.")
    days = c2.number_input("History (days)", min_value=1, max_value=90, value=7)
    if not url:
        return None, float(days)
    try:
        return (base.with_(url=url) if base else PrometheusSettings(url=url)), float(days)
    except FragvizError as exc:
        st.error(str(exc), icon=":material/error:")
        return None, float(days)


def show_preflight(report: Preflight) -> None:
    """The connection test's findings: what exists, how far history goes back, warnings."""
    checks = report.checks
    st.success(f"Connected. kube-state-metrics sees {int(checks.get('has_ksm_nodes', 0)):,} nodes; "
               f"dcgm-exporter {int(checks.get('has_dcgm', 0)):,} GPUs; history from "
               f"{report.history_from:%Y-%m-%d %H:%M} UTC ({report.history_days:.1f} days)." if report.ok and
               report.history_from is not None else "Connected.", icon=":material/check_circle:") if report.ok else None
    for error in report.errors:
        st.error(error, icon=":material/error:")
    for warning in report.warnings:
        st.warning(warning, icon=":material/warning:")
