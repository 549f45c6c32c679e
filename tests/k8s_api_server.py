"""A loopback Kubernetes API server for tests: the JSON the real one speaks, nothing more.

:func:`api_server` starts a threaded ``http.server`` on 127.0.0.1 (a free port) serving

- ``GET /version`` (``gitVersion`` and friends),
- ``GET /api/v1/nodes``, ``GET /api/v1/pods`` and ``GET /apis/policy/v1/poddisruptionbudgets``
  as ``NodeList`` / ``PodList`` / ``PodDisruptionBudgetList`` built from Python dicts, paged
  with ``limit`` and ``continue`` (opaque ``metadata.continue`` tokens, ``remainingItemCount``;
  an unknown token gets ``410 Expired`` as from a real server),

every body with ``Content-Type: application/json``. Items are served without ``kind`` and
``apiVersion``, as the API server lists them. With a ``token``, requests without
``Authorization: Bearer <token>`` get ``401``.

Faults are set at run time (:meth:`FakeApiServer.fail`, :meth:`~FakeApiServer.malformed`,
:meth:`~FakeApiServer.slow`), optionally for some paths and a number of requests only.
Every request is recorded (method, path, query, headers) so a test can assert, for
example, that only ``GET`` requests arrived. :func:`write_kubeconfig` writes a kubeconfig
whose contexts point at such servers, so the client's real config loading is exercised.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

VERSION_INFO = {"major": "1", "minor": "30", "gitVersion": "v1.30.2", "gitCommit": "0" * 40,
                "gitTreeState": "clean", "buildDate": "2025-06-11T00:00:00Z", "goVersion": "go1.22.4",
                "compiler": "gc", "platform": "linux/amd64"}
NODES, PODS, PDBS = "/api/v1/nodes", "/api/v1/pods", "/apis/policy/v1/poddisruptionbudgets"
# path -> (list kind, resource, API group, apiVersion)
LISTS = {NODES: ("NodeList", "nodes", "", "v1"), PODS: ("PodList", "pods", "", "v1"),
         PDBS: ("PodDisruptionBudgetList", "poddisruptionbudgets", "policy", "policy/v1")}
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 410: "Expired",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict
    headers: dict


@dataclass
class Fault:
    """A misbehaviour for requests to ``paths`` (all paths when empty), ``times`` requests
    long (until cleared when None). ``kind`` is ``status``, ``invalid-json``, ``no-items``
    or ``slow``."""

    kind: str
    status: int = 0
    message: str = ""
    delay: float = 0.0
    paths: tuple[str, ...] = ()
    times: int | None = None

    def matches(self, path: str) -> bool:
        return (not self.paths or path in self.paths) and (self.times is None or self.times > 0)


def status_object(code: int, message: str, reason: str | None = None) -> dict:
    """A ``Status`` object as the API server sends with every error."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason or REASONS.get(code, "Unknown"), "code": code}


def forbidden_message(path: str, user: str = "system:serviceaccount:fragviz:viewer") -> str:
    """The API server's wording for a missing RBAC permission on ``path``."""
    if path in LISTS:
        _, resource, group, _ = LISTS[path]
        return (f'{resource}{"." + group if group else ""} is forbidden: User "{user}" cannot list resource "{resource}" '
                f'in API group "{group}" at the cluster scope')
    return f'forbidden: User "{user}" cannot get path "{path}"'


class FakeApiServer:
    """Serves ``nodes``, ``pods`` and ``pdbs`` (lists of API objects) like a Kubernetes API server."""

    def __init__(self, nodes=(), pods=(), pdbs=(), *, token: str | None = None, version: dict | None = None):
        self.token = token
        self.version = dict(version or VERSION_INFO)
        self._objects = {NODES: list(nodes), PODS: list(pods), PDBS: list(pdbs)}
        self._faults: list[Fault] = []
        self._requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fake-k8s-api", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()          # wakes slow responses
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- run-time settings -------------------------------------------------------------------
    def set_objects(self, nodes=None, pods=None, pdbs=None) -> None:
        with self._lock:
            for path, objects in ((NODES, nodes), (PODS, pods), (PDBS, pdbs)):
                if objects is not None:
                    self._objects[path] = list(objects)

    def fail(self, status: int, message: str | None = None, *, paths=(), times: int | None = None) -> None:
        """Answer ``status`` with a Status body (default message: the server's usual wording)."""
        self._add(Fault("status", status=status, message=message or "", paths=tuple(paths), times=times))

    def malformed(self, kind: str = "invalid-json", *, paths=(), times: int | None = None) -> None:
        """Answer 200 with a body that is not valid JSON (``invalid-json``) or a List without
        ``items`` (``no-items``)."""
        if kind not in ("invalid-json", "no-items"):
            raise ValueError(f"unknown malformed body '{kind}' (expected invalid-json or no-items)")
        self._add(Fault(kind, paths=tuple(paths), times=times))

    def slow(self, seconds: float, *, paths=(), times: int | None = None) -> None:
        """Wait ``seconds`` before answering (normally)."""
        self._add(Fault("slow", delay=seconds, paths=tuple(paths), times=times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    # -- what arrived ----------------------------------------------------------------------
    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def record(self, request: Recorded) -> None:
        with self._lock:
            self._requests.append(request)

    # -- answering -------------------------------------------------------------------------
    def answer(self, method: str, path: str, query: dict, headers: dict) -> tuple[int, bytes, float]:
        """(status, JSON body, delay in seconds) for one request."""
        path = path.rstrip("/") or "/"     # the client asks for /version/
        if method != "GET":
            return _json(405, status_object(405, f"the fake API server is read-only: {method} {path}", "MethodNotAllowed"))
        expected = f"Bearer {self.token}"
        if self.token and headers.get("authorization") != expected:
            return _json(401, status_object(401, "Unauthorized"))
        fault = self._take_fault(path)
        delay = fault.delay if fault and fault.kind == "slow" else 0.0
        if fault and fault.kind == "status":
            message = fault.message or (forbidden_message(path) if fault.status == 403 else REASONS.get(fault.status, "error"))
            return _json(fault.status, status_object(fault.status, message))
        if fault and fault.kind == "invalid-json":
            return 200, b'{"kind": "PodList", "items": [', 0.0
        if fault and fault.kind == "no-items":
            kind, _, _, api_version = LISTS.get(path, ("List", "", "", "v1"))
            return _json(200, {"kind": kind, "apiVersion": api_version, "metadata": {}})
        if path == "/version":
            status, body, _ = _json(200, self.version)
            return status, body, delay
        if path in LISTS:
            status, body, _ = self._list(path, query)
            return status, body, delay
        return _json(404, status_object(404, "the server could not find the requested resource"))

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(path):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _list(self, path: str, query: dict) -> tuple[int, bytes, float]:
        """One page of a list: ``limit`` items from the ``continue`` offset."""
        kind, resource, _, api_version = LISTS[path]
        with self._lock:
            objects = self._objects[path]
        try:
            offset = _decode_token(query.get("continue"), resource)
            limit = int(query.get("limit") or 0)
        except ValueError:
            return _json(410, status_object(410, "The provided continue parameter is too old to display a consistent "
                                                 "list result. You can start a new list without the continue parameter."))
        end = len(objects) if limit <= 0 else min(offset + limit, len(objects))
        metadata: dict = {"resourceVersion": "424242"}
        if end < len(objects):
            metadata["continue"] = _encode_token(end, resource)
            metadata["remainingItemCount"] = len(objects) - end
        items = [{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")} for obj in objects[offset:end]]
        return _json(200, {"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": items})


def _json(status: int, doc) -> tuple[int, bytes, float]:
    return status, json.dumps(doc, separators=(",", ":")).encode(), 0.0


def _encode_token(offset: int, resource: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"r": resource, "o": offset}).encode()).decode()


def _decode_token(token: str | None, resource: str) -> int:
    """The offset a continue token stands for; ValueError when it is not one of ours."""
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad continue token {token!r}") from exc
    if not isinstance(data, dict) or data.get("r") != resource or not isinstance(data.get("o"), int):
        raise ValueError(f"bad continue token {token!r}")
    return data["o"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as the client's connection pool expects

    def _serve(self) -> None:
        fake: FakeApiServer = self.server.fake
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake.record(Recorded(self.command, url.path, query, headers))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, body, delay = fake.answer(self.command, url.path, query, headers)
        if delay and fake._stopping.wait(delay):
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):   # the client gave up (read timeout)
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format, *args) -> None:
        """Silence the per-request log on stderr."""


@contextmanager
def api_server(nodes=(), pods=(), pdbs=(), *, token: str | None = None) -> Iterator[FakeApiServer]:
    """A running :class:`FakeApiServer`, stopped on exit."""
    server = FakeApiServer(nodes, pods, pdbs, token=token).start()
    try:
        yield server
    finally:
        server.stop()


def write_kubeconfig(path, contexts: dict[str, tuple[str, str]], current: str | None = None) -> Path:
    """A kubeconfig at ``path`` with one context per ``{name: (server URL, bearer token)}``,
    each with its own cluster and user entry; ``current`` (default: the first) is the
    current context, ``""`` leaves ``current-context`` out."""
    names = list(contexts)
    doc: dict = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": f"{name}-cluster", "cluster": {"server": url, "insecure-skip-tls-verify": True}}
                     for name, (url, _) in contexts.items()],
        "users": [{"name": f"{name}-user", "user": {"token": token}} for name, (_, token) in contexts.items()],
        "contexts": [{"name": name, "context": {"cluster": f"{name}-cluster", "user": f"{name}-user"}} for name in names],
    }
    chosen = names[0] if current is None and names else current
    if chosen:
        doc["current-context"] = chosen
    path = Path(path)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
