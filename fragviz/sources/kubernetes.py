"""The live Kubernetes API -> a Snapshot, through the official ``kubernetes`` client.

**Read-only by construction.** A :class:`KubernetesSource` calls exactly four operations,
all ``GET``: ``/version``, ``/api/v1/nodes``, ``/api/v1/pods`` and
``/apis/policy/v1/poddisruptionbudgets`` (all namespaces). It never creates, patches or
deletes anything, never opens a watch, and never writes the kubeconfig back
(``persist_config=False``, so even a refreshed token stays in memory). The RBAC it needs is
``get, list`` on ``nodes`` and ``pods`` at cluster scope, and ``list poddisruptionbudgets.policy``
for the pods' eviction limits: without that one (403, or 404 on a server without policy/v1)
the snapshot still loads, the pods' ``pdb`` / ``pdb_allowed`` stay unknown ("" / -1) and
:attr:`KubernetesSource.warnings` says so.

Each source builds its own ``Configuration`` and ``ApiClient`` from a kubeconfig context
or the in-cluster service account; the client's global default configuration is never
read or changed, so two dashboard users on different contexts share no state.

Lists are paged (``limit`` = :attr:`KubernetesSettings.page_size`, ``continue`` tokens until
``metadata.continue`` is empty) and read with ``_preload_content=False``: the JSON body is
parsed here, which is fast for 10,000+ pods and gives exactly the camelCase dicts
:mod:`fragviz.sources.k8s_objects` converts.

Every failure is a :class:`~fragviz.errors.SourceError` naming the request (``GET
https://host/api/v1/pods``) and saying what to do: bad credentials (401), the missing RBAC
permission (403), the server's message for other statuses, a malformed body, an
unreachable server, a read timeout. Connection errors and 5xx answers are retried
``retries`` times with exponential backoff; 4xx answers and read timeouts are not, so one
request takes at most about ``(retries + 1) x connect_timeout + read_timeout`` plus the
backoff. A bad quantity in an object is an :class:`~fragviz.errors.InputError` naming the
request, the object (``namespace/name``) and the field.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from typing import Self
from urllib.parse import urlsplit

import pandas as pd
import urllib3

from .. import __version__
from ..errors import SettingsError, SourceError
from ..model import Snapshot
from .k8s_objects import GPU_RESOURCES, GpuResources, snapshot_from_objects
from .kubectl import item_kind

DEFAULT_KUBECONFIG = "~/.kube/config"
KUBECONFIG_HELP = ("expected a kubeconfig file (YAML with clusters, users, contexts and current-context, as "
                   "`kubectl config view` shows); set FRAGVIZ_KUBECONFIG or KUBECONFIG, or use the in-cluster service account")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class KubernetesSettings:
    """Where the API server is and how to ask it.

    ``kubeconfig`` None means the client's default (``KUBECONFIG``, else ``~/.kube/config``);
    ``context`` None means the kubeconfig's current context. ``in_cluster`` uses the pod's
    service account instead of a kubeconfig. ``retries`` and ``backoff_s`` apply to
    connection errors and 5xx answers only.
    """

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    page_size: int = 500
    connect_timeout: float = 5
    read_timeout: float = 60
    retries: int = 2
    backoff_s: float = 0.5
    gpu: GpuResources = GPU_RESOURCES

    def __post_init__(self):
        if not isinstance(self.page_size, int) or self.page_size < 1:
            raise SettingsError(f"page size {self.page_size!r}: expected a whole number >= 1")
        for name in ("connect_timeout", "read_timeout"):
            if not getattr(self, name) > 0:
                raise SettingsError(f"{name} {getattr(self, name)!r}: expected seconds > 0")
        if not isinstance(self.retries, int) or self.retries < 0 or self.backoff_s < 0:
            raise SettingsError(f"retries {self.retries!r} / backoff {self.backoff_s!r}: expected whole retries >= 0 "
                              "and backoff seconds >= 0")

    @classmethod
    def from_env(cls, environ=None, **overrides) -> KubernetesSettings:
        """From ``FRAGVIZ_KUBECONFIG``, ``FRAGVIZ_KUBE_CONTEXT`` and ``FRAGVIZ_KUBE_IN_CLUSTER``
        (true/false); unset or empty variables keep the defaults."""
        environ = os.environ if environ is None else environ
        flag = str(environ.get("FRAGVIZ_KUBE_IN_CLUSTER", "")).strip().lower()
        if flag not in TRUE + FALSE:
            raise SettingsError(f"FRAGVIZ_KUBE_IN_CLUSTER='{flag}': expected true or false")
        values = {"kubeconfig": environ.get("FRAGVIZ_KUBECONFIG") or None,
                  "context": environ.get("FRAGVIZ_KUBE_CONTEXT") or None,
                  "in_cluster": flag in TRUE}
        return cls(**(values | overrides))

    @property
    def kubeconfig_path(self) -> str:
        """The kubeconfig actually read (may be a ``:``-separated list, as ``KUBECONFIG``)."""
        return self.kubeconfig or os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG


def _kube():
    """The ``kubernetes`` package, imported on first use (the rest of fragviz runs without it)."""
    try:
        import kubernetes.client
        import kubernetes.config
    except ImportError as exc:
        raise SourceError("the live Kubernetes source needs the kubernetes package (pip install kubernetes)") from exc
    return kubernetes


# -- kubeconfig ------------------------------------------------------------------------------

def list_contexts(kubeconfig: str | None = None) -> tuple[list[str], str | None]:
    """(context names, the current one or None) of a kubeconfig (default: the client's)."""
    config = _kube().config
    path = kubeconfig or KubernetesSettings().kubeconfig_path
    try:
        contexts, current = config.list_kube_config_contexts(config_file=path)
        return [str(c["name"]) for c in contexts], str(current["name"]) if current else None
    except config.ConfigException as exc:
        if "current-context" not in str(exc):
            raise _kubeconfig_error(path, exc) from exc
    except Exception as exc:  # the loader raises OSError, yaml, Type and Key errors
        raise _kubeconfig_error(path, exc) from exc
    try:   # a kubeconfig without current-context: still list its contexts
        contexts = config.kube_config.KubeConfigMerger(path).config["contexts"]
        return [str(c["name"]) for c in contexts], None
    except Exception as exc:
        raise _kubeconfig_error(path, exc) from exc


def _kubeconfig_error(path: str, exc: Exception) -> SourceError:
    if "No configuration found" in str(exc):
        return SettingsError(f"no kubeconfig found at {path}; {KUBECONFIG_HELP}")
    return SettingsError(f"cannot read the kubeconfig {path} ({_first_line(exc)}); {KUBECONFIG_HELP}")


# -- the requests ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    """One of the read-only requests the source makes, and the permission it needs."""

    path: str
    kind: str          # what a list holds ("Node", "Pod"); "" for /version
    permission: str    # completes "the account needs RBAC permission to ..."


VERSION = Request("/version", "", 'get the non-resource URL /version (verb get on nonResourceURLs "/version")')
NODES = Request("/api/v1/nodes", "Node", 'list nodes at cluster scope (verbs get, list on resource nodes in API group "")')
PODS = Request("/api/v1/pods", "Pod", 'list pods at cluster scope (verbs get, list on resource pods in API group "")')
PDBS = Request("/apis/policy/v1/poddisruptionbudgets", "PodDisruptionBudget",
               'list poddisruptionbudgets.policy at cluster scope (verbs get, list on resource poddisruptionbudgets '
               'in API group "policy")')
KINDS = ("Node", "Pod", "PodDisruptionBudget")


class ApiError(SourceError):
    """A failed request; ``status`` is the HTTP status, None when no answer arrived."""

    def __init__(self, message: str, *, endpoint: str, status: int | None):
        super().__init__(message, endpoint=endpoint)
        self.status = status


# -- the source ------------------------------------------------------------------------------

class KubernetesSource:
    """Snapshots of a live cluster. Use as a context manager or call :meth:`close`."""

    def __init__(self, settings: KubernetesSettings | None = None, *, sleep=time.sleep):
        client = _kube().client
        self.settings = settings or KubernetesSettings()
        self._sleep = sleep
        self.context, self._api = self._connect()
        self._api.user_agent = f"fragviz/{__version__} (read-only)"
        self.host = self._api.configuration.host.rstrip("/")
        self.warnings: list[str] = []    # about the last snapshot: what it could not know
        core, version, policy = client.CoreV1Api(self._api), client.VersionApi(self._api), client.PolicyV1Api(self._api)
        self._operations = {VERSION: version.get_code, NODES: core.list_node, PODS: core.list_pod_for_all_namespaces,
                            PDBS: policy.list_pod_disruption_budget_for_all_namespaces}

    def _connect(self):
        """(kubeconfig context or None in-cluster, ApiClient) on a Configuration of this source's own."""
        client, config = _kube().client, _kube().config
        configuration = client.Configuration()
        configuration.retries = False        # retries are ours: counted, and never for 4xx or read timeouts
        if self.settings.in_cluster:
            try:
                config.load_incluster_config(client_configuration=configuration)
            except Exception as exc:  # ConfigException, OSError
                raise SourceError(f"cannot use the in-cluster service account ({_first_line(exc)}): fragviz is not running "
                                  "in a pod with a mounted service account token; use a kubeconfig instead "
                                  "(unset FRAGVIZ_KUBE_IN_CLUSTER)") from exc
            return None, client.ApiClient(configuration)
        path = self.settings.kubeconfig_path
        names, current = list_contexts(path)
        context = self.settings.context or current
        if context is None:
            raise SettingsError(f"the kubeconfig {path} has no current-context; choose one of: {', '.join(names) or '(none)'}")
        if context not in names:
            raise SettingsError(f"no context '{context}' in the kubeconfig {path}; its contexts: {', '.join(names) or '(none)'}")
        try:
            api = config.new_client_from_config(config_file=path, context=context, persist_config=False,
                                                client_configuration=configuration)
        except Exception as exc:  # ConfigException, OSError, exec plugin failures
            raise SettingsError(f"cannot load context '{context}' from the kubeconfig {path} ({_first_line(exc)})") from exc
        return context, api

    def close(self) -> None:
        """Release the connection pool."""
        self._api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- labels ------------------------------------------------------------------------------
    @property
    def who(self) -> str:
        """Whose credentials are used, for messages."""
        return "the in-cluster service account" if self.settings.in_cluster else f"context {self.context}"

    @property
    def label(self) -> str:
        """``kubernetes: context prod (api.example.com:6443)``."""
        server = urlsplit(self.host).netloc or self.host
        where = "in-cluster" if self.settings.in_cluster else f"context {self.context}"
        return f"kubernetes: {where} ({server})"

    def endpoint(self, request: Request) -> str:
        """``GET https://host/api/v1/pods``: how messages name a request."""
        return f"GET {self.host}{request.path}"

    # -- public operations -------------------------------------------------------------------
    def snapshot(self, taken_at=None) -> Snapshot:
        """Nodes, pods and PodDisruptionBudgets of the cluster now (``taken_at`` defaults to
        when listing began). :attr:`warnings` is reset to what this snapshot could not know."""
        started = pd.Timestamp.now(tz="UTC").floor("s")
        nodes = self.list_objects(NODES)
        if not nodes:
            raise SourceError("the API server lists no nodes; nothing to show", endpoint=self.endpoint(NODES))
        pods = self.list_objects(PODS)
        warnings: list[str] = []
        pdbs = self.list_pdbs(warnings)
        snapshot = snapshot_from_objects(nodes, pods, pdbs, taken_at=started if taken_at is None else taken_at,
                                         file_nodes=self.endpoint(NODES), file_pods=self.endpoint(PODS),
                                         file_pdbs=self.endpoint(PDBS), label=self.label, notes=warnings,
                                         gpu=self.settings.gpu)
        self.warnings = warnings
        return snapshot

    def list_pdbs(self, warnings: list[str]) -> list[dict] | None:
        """All PodDisruptionBudgets, or None (with a warning) when the account may not list
        them (403) or the server has no policy/v1 (404); other failures raise."""
        try:
            return self.list_objects(PDBS)
        except ApiError as exc:
            if exc.status not in (403, 404):
                raise
            why = (f"forbidden (403): the account needs RBAC permission to {PDBS.permission}" if exc.status == 403
                   else "not found (404): the API server has no policy/v1 PodDisruptionBudgets")
            warnings.append(f"PodDisruptionBudget limits are unknown ({self.endpoint(PDBS)}: {why}); pods are shown "
                            "without PDB limits (pdb empty, pdb_allowed -1)")
            return None

    def list_objects(self, request: Request) -> list[dict]:
        """All items of a list request, page by page."""
        items: list[dict] = []
        token, seen = None, set()
        while True:
            doc = self._get(request, limit=self.settings.page_size, _continue=token)
            items += list_items(doc, request, self.endpoint(request))
            token = continue_token(doc, self.endpoint(request))
            if not token:
                return items
            if token in seen:
                raise SourceError(f"malformed response: the server repeated the continue token {token[:40]!r}",
                                  endpoint=self.endpoint(request))
            seen.add(token)

    def check(self) -> dict:
        """A connection test that never raises for the server's sake.

        Returns ``ok`` (version and both lists work), ``context``, ``server``, ``version``
        (``gitVersion``), ``nodes`` and ``pods`` (counts from a ``limit=1`` list; None when
        unknown), ``permissions`` (``{"list nodes": True/False/None, "list pods": ...,
        "list poddisruptionbudgets": ...}``, None = not known because of another error),
        ``errors`` (messages) and ``warnings`` (a missing PodDisruptionBudget permission, which
        leaves ``ok`` alone: snapshots work without it).
        """
        result = {"ok": False, "context": self.context, "server": self.host, "version": None, "nodes": None,
                  "pods": None, "permissions": {"list nodes": None, "list pods": None, "list poddisruptionbudgets": None},
                  "errors": [], "warnings": []}
        try:
            result["version"] = str(self._get(VERSION).get("gitVersion") or "unknown")
        except ApiError as exc:
            result["errors"].append(str(exc))
            if exc.status is None:       # unreachable: nothing else can work
                return result
        except SourceError as exc:
            result["errors"].append(str(exc))
        for name, request in (("nodes", NODES), ("pods", PODS)):
            permission = f"list {name}"
            try:
                doc = self._get(request, limit=1)
                items = list_items(doc, request, self.endpoint(request))
            except ApiError as exc:
                result["errors"].append(str(exc))
                result["permissions"][permission] = False if exc.status in (401, 403) else None
                continue
            except SourceError as exc:
                result["errors"].append(str(exc))
                continue
            result["permissions"][permission] = True
            result[name] = list_count(doc, items)
        if result["permissions"]["list pods"]:
            try:
                list_items(self._get(PDBS, limit=1), PDBS, self.endpoint(PDBS))
                result["permissions"]["list poddisruptionbudgets"] = True
            except ApiError as exc:
                result["warnings"].append(str(exc))
                result["permissions"]["list poddisruptionbudgets"] = False if exc.status in (401, 403) else None
            except SourceError as exc:
                result["warnings"].append(str(exc))
        result["ok"] = not result["errors"]
        return result

    # -- one request -------------------------------------------------------------------------
    def _get(self, request: Request, **params) -> dict:
        """The parsed JSON body of one GET, with the retry policy; every failure a SourceError."""
        endpoint = self.endpoint(request)
        params = {k: v for k, v in params.items() if v is not None}
        attempts = self.settings.retries + 1
        attempt = 0
        while True:
            attempt += 1
            try:
                body = self._send(request, params)
            except Exception as exc:  # classified below; nothing raw escapes
                error, retry = self._classify(exc, request)
                if retry and attempt < attempts:
                    self._sleep(self.settings.backoff_s * 2 ** (attempt - 1))
                    continue
                if retry and attempts > 1:
                    error = ApiError(f"{error.message} (after {attempts} attempts)", endpoint=endpoint, status=error.status)
                raise error from exc
            return parse_body(body, endpoint)

    def _send(self, request: Request, params: dict) -> bytes:
        """The raw body of one GET (the client raises ApiException for non-2xx statuses)."""
        response = self._operations[request](**params, _preload_content=False,
                                             _request_timeout=(self.settings.connect_timeout, self.settings.read_timeout))
        try:
            return response.data
        finally:
            response.release_conn()

    def _classify(self, exc: Exception, request: Request) -> tuple[ApiError, bool]:
        """(the error to report, whether to retry) for an exception from one request."""
        kube = _kube()
        ApiException, ConfigException = kube.client.exceptions.ApiException, kube.config.ConfigException
        endpoint = self.endpoint(request)
        if isinstance(exc, ApiException):
            status = int(exc.status or 0)
            message = status_message(status, exc.reason, exc.body, request, self.who, self.host)
            return ApiError(message, endpoint=endpoint, status=status or None), status >= 500
        if isinstance(exc, urllib3.exceptions.HTTPError):
            message, retry = transport_message(exc, self.host, self.settings)
            return ApiError(message, endpoint=endpoint, status=None), retry
        if isinstance(exc, ConfigException):
            return ApiError(f"cannot get credentials for {self.who} ({_first_line(exc)})", endpoint=endpoint,
                            status=None), False
        return ApiError(f"request failed ({type(exc).__name__}: {_first_line(exc)})", endpoint=endpoint, status=None), False


# -- answers -> messages ---------------------------------------------------------------------

def status_message(status: int, reason: str | None, body: str | None, request: Request, who: str, host: str) -> str:
    """What an HTTP error status means for the user, with the server's message when it has one."""
    reason = (reason or "").strip()
    if status == 0:   # the client reports TLS failures as status 0
        return (f"TLS error talking to the API server at {host} ({_first_line(reason.replace('SSLError', '').strip())}): "
                f"check the certificate-authority of {who}")
    if status == 401:
        text = f"the API server rejected the credentials (401 Unauthorized): check the token or client certificate of {who}"
    elif status == 403:
        text = f"forbidden (403): the account needs RBAC permission to {request.permission}"
    elif status == 404:
        text = f"not found (404): the server has no {request.path}; is {host} a Kubernetes API server?"
    elif status == 410:
        text = ("the paged list expired (410 Gone): the continue token outlived the server's window (usually 5 minutes); "
                "take the snapshot again, or raise the page size")
    elif status >= 500:
        text = f"the API server failed ({status} {reason})".replace(" )", ")")
    else:
        text = f"unexpected answer ({status} {reason})".replace(" )", ")")
    said = server_message(body)
    if said and said.lower() != reason.lower() and said.lower() not in text.lower():
        text += f"; server says: {said}"
    return text


def server_message(body) -> str:
    """The ``message`` of a Status body; the start of a body that is not JSON; else ``""``."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        doc = json.loads(text)
    except ValueError:
        return _clip(" ".join(text.split()), 200)
    return _clip(str(doc.get("message") or ""), 500) if isinstance(doc, dict) else ""


def transport_message(exc: Exception, host: str, settings: KubernetesSettings) -> tuple[str, bool]:
    """(message, retry?) for a urllib3 error: no connection, timeout, broken connection."""
    errors = urllib3.exceptions
    reason = exc.reason if isinstance(exc, errors.MaxRetryError) and exc.reason is not None else exc
    if isinstance(reason, errors.ReadTimeoutError):
        return (f"no answer within {settings.read_timeout:g} s from the API server at {host} (read timeout; "
                "a very large cluster may need a longer one)"), False
    if isinstance(reason, errors.NameResolutionError):
        return f"cannot reach the API server at {host} (the host name does not resolve)", True
    if isinstance(reason, errors.NewConnectionError):
        return f"cannot reach the API server at {host} ({_socket_reason(reason)})", True
    if isinstance(reason, errors.ConnectTimeoutError):
        return f"cannot reach the API server at {host} (no connection within {settings.connect_timeout:g} s)", True
    if isinstance(reason, errors.SSLError):
        return f"TLS error talking to the API server at {host} ({_first_line(reason)})", False
    if isinstance(reason, errors.ProtocolError):
        return f"the connection to the API server at {host} broke ({_socket_reason(reason)})", True
    return f"cannot reach the API server at {host} ({_socket_reason(reason)})", True


def _socket_reason(exc: Exception) -> str:
    """``connection refused`` from urllib3's ``<...object at 0x..>: Failed ...: [Errno 111] Connection refused``."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^)'\]]+)", text)
    if match:
        return match[1].strip().lower()
    return _first_line(re.sub(r"<[^>]*>:?\s*", "", text)) or type(exc).__name__


# -- bodies ----------------------------------------------------------------------------------

def parse_body(body: bytes, endpoint: str) -> dict:
    """A JSON object from a 200 answer, else a 'malformed response' SourceError."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        start = _clip(" ".join(body[:120].decode("utf-8", "replace").split()), 80)
        raise SourceError(f"malformed response: not JSON ({exc}); the body starts with {start!r}", endpoint=endpoint) from exc
    if not isinstance(doc, dict):
        raise SourceError(f"malformed response: expected a JSON object, got a JSON {type(doc).__name__}", endpoint=endpoint)
    return doc


def list_items(doc: dict, request: Request, endpoint: str) -> list[dict]:
    """The items of a ``NodeList`` / ``PodList``, checked to be objects of the right kind."""
    expected = f"{request.kind}List"
    kind = doc.get("kind")
    if kind not in (None, "", expected, "List"):
        raise SourceError(f"malformed response: expected a {expected}, got kind '{kind}'", endpoint=endpoint)
    items = doc.get("items")
    if items is None and "items" not in doc:
        raise SourceError(f"malformed response: expected a {expected} with an 'items' list, got a JSON object without "
                          f"'items' (keys: {', '.join(sorted(map(str, doc))[:8]) or 'none'})", endpoint=endpoint)
    items = [] if items is None else items
    if not isinstance(items, list):
        raise SourceError(f"malformed response: 'items' of the {expected} is a JSON {type(items).__name__}, not a list",
                          endpoint=endpoint)
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise SourceError(f"malformed response: item {number} of the {expected} is a JSON {type(item).__name__}, "
                              f"not a {request.kind}", endpoint=endpoint)
        found = item.get("kind") or item_kind(item)
        other = set(KINDS) - {request.kind}
        if (item.get("kind") and found != request.kind) or found in other:
            raise SourceError(f"malformed response: item {number} of the {expected} is a {found}, not a {request.kind}",
                              endpoint=endpoint)
    return items


def continue_token(doc: dict, endpoint: str) -> str:
    """``metadata.continue`` of a list ("" on the last page)."""
    metadata = doc.get("metadata") or {}
    token = metadata.get("continue") if isinstance(metadata, dict) else None
    if token is not None and not isinstance(token, str):
        raise SourceError(f"malformed response: metadata.continue is a JSON {type(token).__name__}, not a string",
                          endpoint=endpoint)
    return token or ""


def list_count(doc: dict, items: list) -> int | None:
    """Objects in a whole list from one page: items plus ``remainingItemCount`` (None when
    the server says there are more but not how many)."""
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    remaining = metadata.get("remainingItemCount")
    if isinstance(remaining, int):
        return len(items) + remaining
    return None if metadata.get("continue") else len(items)


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."
