"""The one way in: every source opened the same way, for the command line and the dashboard.

    load(source, settings, history_days, catalog, prometheus=None, client=None) -> Loaded

``source`` names an entry of :data:`SOURCES` and ``settings`` is that source's own:

    demo         DemoSettings          the generated cluster and its own 60 days of history
    files        FileSettings          nodes/pods/placement/pdbs files, any format (sources/files.py)
    prometheus   PrometheusSettings    pre-flight, snapshot and ``history_days`` of history
    kubernetes   KubernetesSettings    the API's snapshot; with ``prometheus=`` settings also DCGM's
                                       pod-to-GPU map and the history from Prometheus (sources/merge.py)

A :class:`Loaded` carries the snapshot, the history (or None), the PromQL behind them (``queries``,
and each History frame's query in ``history.queries``) and the warnings about the data. The app
wraps :func:`load` in Streamlit's cache (fragviz/app/live.py); the CLI calls it directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import FragvizError, SourceError
from ..model import History, Snapshot

if TYPE_CHECKING:
    from .kubernetes import KubernetesSettings
    from .promclient import PrometheusClient, PrometheusSettings
    from .prometheus import Preflight, PrometheusSource

DEFAULT_HISTORY_DAYS = 7.0
# History frame -> the catalog query it comes from (queries.yaml); its PromQL goes into History.queries
HISTORY_QUERIES = {"gpu_util_pct": "device_gpu_util", "node_gpu_util_pct": "device_gpu_util",
                   "node_gpu_allocated": "node_gpu_requested", "namespace_gpu_allocated": "namespace_gpu_requested",
                   "cluster": "cluster_gpu_requested"}


@dataclass(frozen=True)
class DemoSettings:
    """The demo cluster: about ``nodes`` nodes (10 to 20,000) from ``seed``, taken at
    ``taken_at`` (default: this hour)."""

    nodes: int = 200
    seed: int = 7
    taken_at: str | pd.Timestamp | None = None


@dataclass(frozen=True)
class FileSettings:
    """Files in any format fragviz reads (see :func:`fragviz.sources.files.load_files`)."""

    nodes: str | Path
    pods: str | Path | None = None
    placement: str | Path | None = None
    pdbs: str | Path | None = None


@dataclass(frozen=True)
class Loaded:
    """What a source gave: the snapshot, its history (None for files), the PromQL sent (query
    name -> PromQL), warnings about the data, and how far Prometheus' history goes back."""

    snapshot: Snapshot
    history: History | None = None
    queries: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    history_from: pd.Timestamp | None = None


def open_prometheus(settings: PrometheusSettings, catalog: str | Path | None = None,
                    client: PrometheusClient | None = None, lookback_days: int = 90) -> tuple[PrometheusSource, Preflight]:
    """A PrometheusSource that passed its pre-flight (SourceError naming the endpoint if not), and
    the pre-flight's findings. ``client`` shares a connection pool; ``catalog`` overrides queries."""
    from .prometheus import PrometheusSource
    from .promql import Catalog
    source = PrometheusSource(settings, Catalog.load(catalog), client=client)
    preflight = source.preflight(lookback_days=lookback_days)
    if not preflight.ok:
        raise SourceError("; ".join(preflight.errors), endpoint=settings.url)
    return source, preflight


def with_queries(history: History, used: dict[str, str]) -> History:
    """``history`` with each frame's PromQL (from the queries ``used``) in ``history.queries``."""
    history.queries.update({frame: used[name] for frame, name in HISTORY_QUERIES.items() if name in used})
    return history


def _demo(settings: DemoSettings, history_days: float, catalog, prometheus, client) -> Loaded:
    from .demo import MAX_NODES, MIN_NODES, demo_history, demo_snapshot
    if not isinstance(settings.nodes, int) or not MIN_NODES <= settings.nodes <= MAX_NODES:
        raise FragvizError(f"demo cluster size {settings.nodes!r}: expected {MIN_NODES} to {MAX_NODES:,} nodes")
    snapshot = demo_snapshot(nodes=settings.nodes, seed=settings.seed, taken_at=settings.taken_at)
    return Loaded(snapshot, demo_history(snapshot, seed=settings.seed))


def _files(settings: FileSettings, history_days: float, catalog, prometheus, client) -> Loaded:
    from .files import load_files
    notes: list[str] = []
    snapshot = load_files(settings.nodes, settings.pods, settings.placement, settings.pdbs, notes=notes)
    return Loaded(snapshot, warnings=notes)


def _prometheus(settings: PrometheusSettings, history_days: float, catalog, prometheus, client) -> Loaded:
    source, preflight = open_prometheus(settings, catalog, client)
    snapshot = source.snapshot()
    history = source.history(snapshot.taken_at - pd.Timedelta(days=history_days), snapshot.taken_at, snapshot=snapshot)
    return Loaded(snapshot, with_queries(history, source.used), dict(source.used), preflight.warnings + source.warnings,
                  preflight.history_from)


def _kubernetes(settings: KubernetesSettings, history_days: float, catalog, prometheus: PrometheusSettings | None,
                client) -> Loaded:
    from .kubernetes import KubernetesSource
    with KubernetesSource(settings) as source:
        snapshot = source.snapshot()
    if prometheus is None:
        return Loaded(snapshot, warnings=list(source.warnings))
    from .merge import merge
    from .prometheus import PrometheusSource
    from .promql import Catalog
    prom = PrometheusSource(prometheus, Catalog.load(catalog), client=client)
    snapshot, history, notes = merge(snapshot, prom, history_days)
    return Loaded(snapshot, with_queries(history, prom.used), dict(prom.used), source.warnings + notes)


# source name -> opener(settings, history_days, catalog, prometheus, client)
SOURCES: dict[str, Callable[..., Loaded]] = {"demo": _demo, "files": _files, "prometheus": _prometheus,
                                             "kubernetes": _kubernetes}


def load(source: str, settings: Any, history_days: float = DEFAULT_HISTORY_DAYS, catalog: str | Path | None = None, *,
         prometheus: PrometheusSettings | None = None, client: PrometheusClient | None = None) -> Loaded:
    """Open ``source`` with its ``settings`` (see the module docstring). ``history_days`` of history
    come from Prometheus (the demo brings its own, files have none); ``catalog`` is a YAML file
    overriding PromQL queries; ``prometheus`` adds Prometheus to the Kubernetes source; ``client``
    is the Prometheus client to use (the app shares one per settings). Raises FragvizError (a
    SourceError when a live source fails)."""
    opener = SOURCES.get(source)
    if opener is None:
        raise FragvizError(f"source '{source}': expected one of {', '.join(SOURCES)}")
    if prometheus is not None and source != "kubernetes":
        raise FragvizError(f"source '{source}': Prometheus for history goes with the kubernetes source")
    return opener(settings, history_days, catalog, prometheus, client)
