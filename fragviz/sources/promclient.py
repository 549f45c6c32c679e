"""Talking to Prometheus (and the servers that speak its HTTP API): settings, one retry
policy, explicit timeouts, range queries under the 11,000-point limit, results as arrays.

Built on ``prometheus-api-client``'s ``PrometheusConnect`` for the HTTP session (auth,
headers, TLS); everything that decides *how* to ask lives here. Every request goes through
:func:`fragviz.sources.promfetch.post`: the answer is streamed and capped at
``FRAGVIZ_LIMIT_MAX_PROMETHEUS_MB``, and one deadline per query (``deadline_s``, else
``FRAGVIZ_LIMIT_PROMETHEUS_DEADLINE_S``) bounds retries, range pieces and trickling servers;
answers are decoded and checked by :mod:`fragviz.sources.promwire`. Secrets (token, password)
never appear in ``repr``, logs or error messages.
"""

from __future__ import annotations

import json
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import requests
import urllib3
from prometheus_api_client import PrometheusConnect
from urllib3.util.retry import Retry

from ..errors import SettingsError, SourceError, one_line
from ..limits import Limits, limits, setting_hint
from . import promfetch
from .promfetch import Deadline
from .promwire import WireError, parse_matrix, parse_vector

MAX_POINTS = 11_000          # Prometheus refuses more points per series in one range query
FLAVOURS = {                 # path the API lives under, appended to the base URL when missing
    "prometheus": "", "thanos": "", "mimir": "/prometheus", "victoriametrics": "/select/0/prometheus",
}
RETRY_STATUS = (429, 502, 503, 504)
PARALLEL_FROM_POINTS = 2_000   # split longer ranges into `parallel` pieces asked for at once
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class PrometheusSettings:
    """Where and how to reach Prometheus. Build from a dict (``.streamlit/secrets.toml``'s
    ``[prometheus]`` table) or the environment (``FRAGVIZ_PROMETHEUS_*``)."""

    url: str
    flavour: str = "prometheus"
    token: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    verify: bool = True
    ca_file: str = ""
    headers: tuple[tuple[str, str], ...] = ()   # e.g. (("X-Scope-OrgID", "team-a"),)
    cluster_label: str = ""                      # a shared multi-cluster Prometheus: label name ...
    cluster: str = ""                            # ... and value selecting this cluster
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    retries: int = 2
    backoff_s: float = 0.5
    parallel: int = 2                            # range pieces asked for at once
    compression: str = "auto"                    # gzip answers: "auto" (not on loopback), "on", "off"
    deadline_s: float = 0.0                      # one query, retries included (0: FRAGVIZ_LIMIT_PROMETHEUS_DEADLINE_S)

    def __post_init__(self):
        for key in ("connect_timeout", "read_timeout", "backoff_s", "deadline_s"):
            value = getattr(self, key)
            if not isinstance(value, (int, float)) or not 0 <= value < 1e7 or value != value:
                raise SettingsError(f"Prometheus setting {key}={value!r}: expected a number of seconds from 0 to 10,000,000")
        for key, low in (("retries", 0), ("parallel", 1)):
            value = getattr(self, key)
            if not isinstance(value, int) or not low <= value <= 100:
                raise SettingsError(f"Prometheus setting {key}={value!r}: expected a whole number from {low} to 100")
        if not self.url or not urlparse(self.url).scheme.startswith("http") or not urlparse(self.url).netloc:
            raise SettingsError(f"'{self.url}' is not a Prometheus URL (expected e.g. http://prometheus:9090)")
        if self.flavour not in FLAVOURS:
            raise SettingsError(f"unknown Prometheus flavour '{self.flavour}'; expected one of {', '.join(FLAVOURS)}")
        if bool(self.cluster_label) != bool(self.cluster):
            raise SettingsError("a cluster selector needs both the label name and the value")

    @property
    def api_url(self) -> str:
        base = self.url.rstrip("/")
        suffix = FLAVOURS[self.flavour]
        return base if not suffix or base.endswith(suffix) else base + suffix

    @property
    def compress(self) -> bool:
        """Ask for gzip? It saves network but costs the server more time than the transfer on
        loopback (a 54 MB answer: 3.7 s plain vs 7 s gzipped here)."""
        if self.compression == "auto":
            return urlparse(self.url).hostname not in LOOPBACK
        return self.compression == "on"

    @property
    def auth_kind(self) -> str:
        return "bearer token" if self.token else "basic auth" if self.username else "none"

    @classmethod
    def from_mapping(cls, values, **overrides) -> PrometheusSettings:
        """From a mapping with keys url, flavour, token, username, password, verify, ca_file,
        headers (a table or a JSON object), cluster_label, cluster, timeouts."""
        data = {k: v for k, v in dict(values).items() if v not in (None, "")} | overrides
        headers = data.get("headers", ())
        if isinstance(headers, str):
            try:
                headers = json.loads(headers)
            except ValueError as exc:
                raise SettingsError(f"Prometheus headers must be a JSON object, e.g. {{\"X-Scope-OrgID\": \"a\"}} ({exc})") from exc
        if isinstance(headers, dict):
            headers = tuple((str(k), str(v)) for k, v in headers.items())
        verify = data.get("verify", True)
        if isinstance(verify, str):
            verify = verify.strip().lower() not in ("false", "0", "no")
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in known and k not in ("headers", "verify")}
        for key, kind in (("connect_timeout", float), ("read_timeout", float), ("backoff_s", float),
                          ("deadline_s", float), ("retries", int), ("parallel", int)):
            if key in kwargs:
                try:
                    kwargs[key] = kind(kwargs[key])
                except (TypeError, ValueError, OverflowError):
                    raise SettingsError(f"Prometheus setting {key}={str(kwargs[key])[:40]!r}: expected a "
                                      f"{'whole ' if kind is int else ''}number") from None
        return cls(headers=tuple(headers), verify=bool(verify), **kwargs)

    @classmethod
    def from_env(cls, environ) -> PrometheusSettings | None:
        """``FRAGVIZ_PROMETHEUS_URL`` (required), ``_FLAVOUR``, ``_TOKEN``, ``_USERNAME``,
        ``_PASSWORD``, ``_VERIFY``, ``_CA_FILE``, ``_HEADERS`` (JSON), ``_CLUSTER_LABEL``,
        ``_CLUSTER``. None when no URL is set."""
        values = cls.env_values(environ)
        return cls.from_mapping(values) if values.get("url") else None

    @staticmethod
    def env_values(environ) -> dict[str, str]:
        """The ``FRAGVIZ_PROMETHEUS_*`` variables as settings keys (``FRAGVIZ_PROMETHEUS_URL`` -> ``url``)."""
        prefix = "FRAGVIZ_PROMETHEUS_"
        return {key[len(prefix):].lower(): value for key, value in environ.items() if key.startswith(prefix)}

    def with_(self, **changes) -> PrometheusSettings:
        return replace(self, **changes)


class PrometheusClient:
    """Instant and range queries with timeouts, retries and the point limit handled.

    Every failure becomes a :class:`SourceError` naming the endpoint and the query.
    """

    def __init__(self, settings: PrometheusSettings, sleep=time.sleep, ceiling: Limits | None = None):
        self.settings = settings
        self._sleep = sleep
        self._ceiling = ceiling                  # None: limits() (FRAGVIZ_LIMIT_*) at each query
        session = requests.Session()
        session.verify = settings.ca_file or settings.verify
        headers = dict(settings.headers)
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._connect = PrometheusConnect(
            url=settings.api_url, headers=headers or None, session=session, method="POST",
            auth=(settings.username, settings.password) if settings.username else None,
            retry=Retry(total=0, raise_on_status=False), timeout=(settings.connect_timeout, settings.read_timeout))

    @property
    def endpoint(self) -> str:
        return self.settings.api_url

    def close(self) -> None:
        self._connect.close()

    def limits(self) -> Limits:
        return self._ceiling or limits()

    def deadline(self) -> Deadline:
        """The overall deadline of one query from now: the settings' ``deadline_s``, else the
        ``prometheus_deadline_s`` ceiling."""
        return Deadline.after(self.settings.deadline_s or self.limits().prometheus_deadline_s)

    # -- queries -------------------------------------------------------------------------
    def query(self, promql: str, at: pd.Timestamp | None = None) -> list[dict]:
        """Instant query; ``at`` defaults to the server's now."""
        data = {"query": promql, "timeout": f"{max(1, int(self.settings.read_timeout))}s"}
        if at is not None:
            data["time"] = f"{pd.Timestamp(at).timestamp():.3f}"
        return self._call("/api/v1/query", promql, data, parse_vector, self.deadline())

    def query_range(self, promql: str, start, end, step_s: float) -> list[dict]:
        """Range query from ``start`` to ``end`` (inclusive) every ``step_s`` seconds as
        ``[{"metric": labels, "t": seconds, "v": values}]`` (numpy arrays). The range is split
        into pieces of at most :data:`MAX_POINTS` points (and, for long ranges, into
        ``settings.parallel`` pieces asked for at once), then merged back per series. One
        deadline covers all the pieces."""
        start_s, end_s = _seconds(start), _seconds(end)
        if end_s < start_s:
            raise SourceError(f"range ends ({end}) before it starts ({start})", endpoint=self.endpoint, query=promql)
        points = math.floor((end_s - start_s) / step_s) + 1
        workers = self.settings.parallel if points >= PARALLEL_FROM_POINTS else 1
        pieces = split_range(start_s, end_s, step_s, min(MAX_POINTS, math.ceil(points / workers)))
        deadline = self.deadline()

        def fetch(piece):
            lo, hi = piece
            data = {"query": promql, "start": f"{lo:.3f}", "end": f"{hi:.3f}", "step": _step_text(step_s),
                    "timeout": f"{max(1, int(self.settings.read_timeout))}s"}
            return self._call("/api/v1/query_range", promql, data, parse_matrix, deadline)
        if workers > 1 and len(pieces) > 1:
            with ThreadPoolExecutor(min(workers, len(pieces))) as pool:
                answers = list(pool.map(fetch, pieces))
        else:
            answers = [fetch(piece) for piece in pieces]
        merged: dict[tuple, dict] = {}
        for answer in answers:
            for series in answer:
                key = tuple(sorted(series["metric"].items()))
                if key in merged:
                    merged[key]["t"].append(series["t"])
                    merged[key]["v"].append(series["v"])
                else:
                    merged[key] = {"metric": series["metric"], "t": [series["t"]], "v": [series["v"]]}
        return [{"metric": s["metric"], "t": np.concatenate(s["t"]), "v": np.concatenate(s["v"])} for s in merged.values()]

    def _post(self, path: str, data: dict, deadline: Deadline) -> tuple[int, bytes]:
        """One POST on the client's session (auth, headers, TLS), streamed under the ceilings."""
        connect = self._connect
        headers = dict(connect.headers or {})
        if not self.settings.compress:
            headers["Accept-Encoding"] = "identity"
        return promfetch.post(connect._session, f"{connect.url}{path}", data=data, headers=headers, auth=connect.auth,
                              timeout=(self.settings.connect_timeout, self.settings.read_timeout), deadline=deadline,
                              max_bytes=self.limits().bytes("max_prometheus_mb"))

    def _call(self, path: str, promql: str, data: dict, parse, deadline: Deadline):
        """One query with the retry policy: connection errors, timeouts, 429 and 502-504 are
        retried ``retries`` times with exponential backoff and jitter, within ``deadline``;
        nothing else is. Every failure is a SourceError naming the endpoint and the query."""
        endpoint = self.endpoint + path

        def fail(message: str) -> SourceError:
            return SourceError(message, endpoint=endpoint, query=promql)
        error = cause = None
        for attempt in range(self.settings.retries + 1):
            try:
                status, body = self._post(path, data, deadline)
            except promfetch.DeadlinePassed:
                raise self._deadline_error(fail, deadline, error) from cause
            except promfetch.TooLarge as exc:
                mb = self.limits().max_prometheus_mb
                raise fail(f"the answer is larger than the {mb:,} MB limit for one Prometheus response "
                           f"({'declared ' if exc.declared else 'stopped reading at '}{exc.size / (1 << 20):,.1f} MB); "
                           f"ask for fewer series or a shorter range, or {setting_hint('max_prometheus_mb')}") from None
            except (requests.exceptions.SSLError, urllib3.exceptions.SSLError) as exc:
                raise fail(f"TLS verification failed ({_first_line(exc)}); set a CA file or turn "
                           "verification off") from exc
            except (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError) as exc:
                error, cause = fail(f"Prometheus did not answer within {self.settings.read_timeout:g} s"), exc
            except (requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError) as exc:
                error, cause = fail(f"the answer was cut off: the connection closed before it was complete "
                                    f"({_first_line(exc)})"), exc
            except requests.exceptions.ConnectionError as exc:
                error, cause = fail(f"cannot reach Prometheus ({_connection_reason(exc)})"), exc
            except (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError) as exc:
                raise fail(f"malformed answer: its compression is broken ({_first_line(exc)})") from exc
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
                raise fail(f"the request failed ({type(exc).__name__}: {_first_line(exc)})") from exc
            else:
                if status == 200:
                    return self._decode(parse, body, fail)
                error, cause = fail(_status_message(status, _error_text(body), self.settings)), None
                if status not in RETRY_STATUS:
                    raise error
            if attempt < self.settings.retries:
                pause = self.settings.backoff_s * (2 ** attempt) * (0.5 + random.random())
                if pause >= deadline.remaining():
                    raise self._deadline_error(fail, deadline, error) from cause
                self._sleep(pause)
        raise error from cause

    @staticmethod
    def _decode(parse, body: bytes, fail):
        try:
            result = parse(body)
        except WireError as exc:
            raise fail(f"malformed answer: {exc}" if exc.malformed else str(exc)) from None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
            raise fail(f"malformed answer: not a Prometheus API response ({_first_line(exc)})") from None
        if not isinstance(result, list):
            raise fail("malformed answer: data.result is not a list")
        return result

    def _deadline_error(self, fail, deadline: Deadline, last: SourceError | None) -> SourceError:
        where = "the deadline_s setting" if self.settings.deadline_s else "FRAGVIZ_LIMIT_PROMETHEUS_DEADLINE_S"
        tried = f"; last try: {last.message}" if last is not None else ""
        return fail(f"no complete answer within the {deadline.seconds:g} s deadline for one query (retries "
                    f"included){tried}; raise it with {where} if Prometheus is just slow")


def split_range(start_s: float, end_s: float, step_s: float, max_points: int = MAX_POINTS) -> list[tuple[float, float]]:
    """Pieces of [start, end] on the step grid, each with at most ``max_points`` points and
    no point twice."""
    if step_s <= 0:
        raise SourceError(f"step must be positive, got {step_s}")
    points = math.floor((end_s - start_s) / step_s) + 1
    pieces = []
    for first in range(0, points, max_points):
        last = min(first + max_points, points) - 1
        pieces.append((start_s + first * step_s, start_s + last * step_s))
    return pieces


def choose_step(start, end, scrape_interval_s: float = 60.0, target_points: int = 1500) -> float:
    """A step that keeps a range near ``target_points`` points, never below the scrape interval."""
    span = _seconds(end) - _seconds(start)
    return float(max(scrape_interval_s, math.ceil(span / target_points / scrape_interval_s) * scrape_interval_s))


def series_matrix(result: list[dict], start, end, step_s: float, key) -> pd.DataFrame:
    """Range-query series (from :meth:`PrometheusClient.query_range`) as one float32 frame: UTC index on the step grid, one column per
    series named ``key(metric labels)``; missing points are NaN. Series with the same key are
    combined by their mean (e.g. two scrape jobs of one device)."""
    start_s = _seconds(start)
    points = math.floor((_seconds(end) - start_s) / step_s) + 1
    names = [key(series.get("metric", {})) for series in result]
    columns = list(dict.fromkeys(names))
    column_of = {name: i for i, name in enumerate(columns)}
    total = np.zeros((points, len(columns)), dtype=np.float64)
    count = np.zeros((points, len(columns)), dtype=np.int32)
    for name, series in zip(names, result):
        stamps, numbers = series["t"], series["v"]
        if not len(stamps):
            continue
        rows = np.rint((stamps - start_s) / step_s).astype(np.int64)
        ok = (rows >= 0) & (rows < points) & np.isfinite(numbers)
        col = column_of[name]
        np.add.at(total[:, col], rows[ok], numbers[ok])
        np.add.at(count[:, col], rows[ok], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = (total / count).astype(np.float32)
    index = pd.date_range(pd.Timestamp(start_s, unit="s", tz="UTC"), periods=points, freq=pd.Timedelta(seconds=step_s))
    return pd.DataFrame(matrix, index=index, columns=columns)


def instant_values(result: list[dict]) -> list[tuple[dict, float]]:
    """(labels, value) of an instant-query result."""
    out = []
    for series in result:
        value = series.get("value") or [None, "nan"]
        out.append((series.get("metric", {}), float(value[1])))
    return out


def _seconds(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.timestamp()


def _step_text(step_s: float) -> str:
    return f"{int(step_s)}s" if float(step_s).is_integer() else f"{step_s}s"


def _error_text(body: bytes) -> str:
    """What a non-200 answer says: the ``error`` of Prometheus' JSON, else the text (one line,
    at most 300 characters, control characters escaped)."""
    text = body.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and doc.get("error"):
            text = str(doc["error"])
    except (ValueError, RecursionError):
        pass
    return one_line(text, 300)


def _status_message(status: int | None, body: str, settings: PrometheusSettings) -> str:
    if status == 401:
        return (f"Prometheus rejected the credentials (401 Unauthorized; auth: {settings.auth_kind}): "
                "check the bearer token or the username and password")
    if status == 403:
        return f"Prometheus refused access (403 Forbidden): the credentials lack permission to query{_tail(body)}"
    if status == 404:
        return ("no Prometheus API at this URL (404 Not Found): check the URL and the flavour's path "
                f"(Mimir serves under /prometheus, VictoriaMetrics under /select/<tenant>/prometheus){_tail(body)}")
    if status == 400 or status == 422:
        return f"Prometheus rejected the query ({status}){_tail(body)}"
    if status is None:
        return f"unexpected answer from Prometheus{_tail(body)}"
    return f"Prometheus answered HTTP {status}{_tail(body)}"


def _tail(body: str) -> str:
    return f": {body}" if body else ""


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    for reason in ("Connection refused", "Name or service not known", "Connection reset", "Remote end closed"):
        if reason.lower() in text.lower():
            return reason.lower()
    return _first_line(exc)
