"""A hostile Prometheus: small local HTTP servers that answer with a huge body, a slow trickle,
silence, an HTML page, JSON of the wrong shape or a 200 with status "error". Each query ends
within its deadline (or at the size ceiling) with a SourceError naming the endpoint and the
query; through the CLI with exit 3 and one line on stderr, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import zlib
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fragviz.errors import SourceError
from fragviz.limits import Limits
from fragviz.sources.promclient import PrometheusClient, PrometheusSettings

from .conftest import ROOT

MB = 1 << 20
SERIES = b'{"metric":{"node":"n%d","gpu":"0"},"value":[1700000000,"1"]},'
HEAD = b'{"status":"success","data":{"resultType":"vector","result":['


def _deflated(total: int) -> bytes:
    """``total`` bytes of vector series, gzip-compressed (a small body that inflates a lot)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = SERIES % 1 * 10_000
    parts, size = [packer.compress(HEAD)], len(HEAD)
    while size < total:
        parts.append(packer.compress(block))
        size += len(block)
    return b"".join(parts) + packer.flush()


class Hostile(BaseHTTPRequestHandler):
    """Answers every request as ``self.server.mode`` says."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests += 1
        try:
            getattr(self, f"_{self.server.mode}")()
        except (BrokenPipeError, ConnectionResetError):
            pass                                    # the client gave up, as it should

    do_GET = do_POST

    def log_message(self, *args):
        pass

    def _send(self, body: bytes, status: int = 200, kind: str = "application/json", **headers):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _huge(self):                                # endless series, no Content-Length: read until the ceiling
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(HEAD)
        block = b"".join(SERIES % i for i in range(2_000))
        for _ in range(100_000):                    # ~10 GB if nobody stopped reading
            self.wfile.write(block)

    def _declared(self):                            # a 10 GB Content-Length: refused before reading
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(10 << 30))
        self.end_headers()
        self.wfile.write(HEAD)
        self.server.stopping.wait(30)

    def _bomb(self):                                # 40 MB of JSON in a small gzip body
        self._send(self.server.bomb, Content_Encoding="gzip")

    def _trickle(self):                             # headers at once, then one byte every 0.3 s
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        for byte in (HEAD * 1000):
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if self.server.stopping.wait(0.3):
                return

    def _trickle_headers(self):                     # even the status line comes a byte at a time
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 100:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            if self.server.stopping.wait(0.3):
                return

    def _silent(self):                              # accepts, reads the request, never answers
        self.server.stopping.wait(60)

    def _html(self):
        self._send(b"<!DOCTYPE html><html><body><form action=/login>Sign in</form></body></html>", kind="text/html")

    def _wrong_json(self):
        self._send(json.dumps({"hits": [1, 2, 3], "took": 5}).encode())

    def _json_list(self):
        self._send(b"[1, 2, 3]")

    def _deep_json(self):
        self._send(b'{"status":"success","data":' + b"[" * 100_000 + b"]" * 100_000 + b"}")

    def _status_error(self):
        self._send(b'{"status":"error","errorType":"execution","error":"query processing would load too many samples"}')

    def _bad_value(self):
        self._send(HEAD + b'{"metric":{"node":"a"},"value":[1700000000,"lots"]}]}}')

    def _bad_series(self):
        self._send(HEAD + b'"just a string"]}}')


@contextmanager
def hostile(mode: str):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    server.mode, server.requests, server.stopping = mode, 0, threading.Event()
    server.bomb = _deflated(40 * MB) if mode == "bomb" else b""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def ask(url: str, *, deadline_s: float = 0.0, ceiling: Limits | None = None, retries: int = 0):
    """(SourceError, seconds) of one instant query that must fail."""
    client = PrometheusClient(PrometheusSettings(url=url, retries=retries, backoff_s=0.05, deadline_s=deadline_s),
                              ceiling=ceiling or Limits(max_prometheus_mb=1, prometheus_deadline_s=5))
    start = time.monotonic()
    with pytest.raises(SourceError) as err:
        client.query("sum(kube_node_info)")
    seconds = time.monotonic() - start
    client.close()
    return err.value, seconds


def named(error: SourceError, url: str, *words: str) -> None:
    """The error names the endpoint, the query and what went wrong, on one line."""
    text = str(error)
    assert f"{url}/api/v1/query" in text and "sum(kube_node_info)" in text, text
    for word in words:
        assert word in text, text
    assert "\n" not in error.one_line()


# -- size ceiling ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode, words", [
    ("huge", ["larger than the 1 MB limit", "stopped reading at", "FRAGVIZ_LIMIT_MAX_PROMETHEUS_MB"]),
    ("declared", ["larger than the 1 MB limit", "declared 10,240.0 MB"]),
    ("bomb", ["larger than the 1 MB limit", "stopped reading at"]),       # counted after gzip decoding
])
def test_a_huge_answer_stops_at_the_size_ceiling(mode, words):
    with hostile(mode) as (server, url):
        error, seconds = ask(url, deadline_s=20)
        assert len(server.bomb) < MB                             # the bomb: under the ceiling until inflated
    named(error, url, *words)
    assert seconds < 10, f"{mode}: {seconds:.1f} s"             # stopped at ~1 MB, not after 10 GB
    assert server.requests == 1                                  # too large is not retried


# -- overall deadline -------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["trickle", "trickle_headers", "silent"])
def test_a_slow_server_ends_at_the_deadline(mode):
    with hostile(mode) as (_, url):
        error, seconds = ask(url, deadline_s=1.0, retries=2)
    named(error, url, "no complete answer within the 1 s deadline", "retries included", "deadline_s setting")
    assert 0.9 < seconds < 3, f"{mode}: {seconds:.2f} s"         # the deadline, not the 60 s read timeout


def test_the_deadline_comes_from_the_limits_without_a_setting():
    with hostile("trickle") as (_, url):
        error, seconds = ask(url, ceiling=Limits(prometheus_deadline_s=1))
    named(error, url, "within the 1 s deadline", "FRAGVIZ_LIMIT_PROMETHEUS_DEADLINE_S")
    assert seconds < 3


def test_retries_stop_at_the_deadline():
    with hostile("silent") as (server, url):
        error, seconds = ask(url, deadline_s=1.5, retries=5)
    named(error, url, "within the 1.5 s deadline")
    assert seconds < 3.5 and server.requests <= 2


# -- answers that are not Prometheus' API ------------------------------------------------------

@pytest.mark.parametrize("mode, words", [
    ("html", ["malformed answer", "HTML page", "login page"]),
    ("wrong_json", ["malformed answer", "JSON is an object without a 'status'", "expected Prometheus' JSON API"]),
    ("json_list", ["malformed answer", "JSON is a list without a 'status'"]),
    ("deep_json", ["malformed answer", "nested deeper than 100 levels"]),
    ("status_error", ["Prometheus answered status 'error'", "execution", "too many samples"]),
    ("bad_value", ["malformed answer", "series 1", "lots"]),
    ("bad_series", ["malformed answer", "series 1 is a string"]),
])
def test_an_answer_of_the_wrong_shape_is_named(mode, words):
    with hostile(mode) as (server, url):
        error, seconds = ask(url, retries=2)
    named(error, url, *words)
    assert seconds < 5 and server.requests == 1                 # a wrong answer is not retried


def test_range_queries_have_the_same_ceilings():
    for mode, words in (("trickle", "within the 1 s deadline"), ("html", "HTML page"), ("huge", "1 MB limit")):
        with hostile(mode) as (_, url):
            client = PrometheusClient(PrometheusSettings(url=url, retries=0, deadline_s=1.0),
                                      ceiling=Limits(max_prometheus_mb=1))
            start = time.monotonic()
            with pytest.raises(SourceError, match=words) as err:
                client.query_range("sum(up)", 1_700_000_000, 1_700_086_400, 60)     # 1,441 points
            assert "/api/v1/query_range" in str(err.value) and time.monotonic() - start < 5
            client.close()


# -- through the command line -------------------------------------------------------------------

@pytest.mark.parametrize("mode, env, words", [
    ("huge", {"FRAGVIZ_LIMIT_MAX_PROMETHEUS_MB": "1"}, "larger than the 1 MB limit"),
    ("trickle", {"FRAGVIZ_LIMIT_PROMETHEUS_DEADLINE_S": "1"}, "within the 1 s deadline"),
    ("html", {}, "HTML page"),
    ("status_error", {}, "status 'error'"),
])
def test_cli_summary_exits_3_with_one_line(mode, env, words, tmp_path):
    with hostile(mode) as (_, url):
        start = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "fragviz.cli", "summary", "--source", "prometheus",
                              "--prometheus-url", url, "--json"], capture_output=True, text=True, timeout=60, check=False,
                             cwd=ROOT, env={**os.environ, "XDG_STATE_HOME": str(tmp_path), **env})
        seconds = time.monotonic() - start
    assert out.returncode == 3, out.stderr
    assert out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fragviz: error: ") and words in lines[0], out.stderr
    assert url in lines[0]
    assert seconds < 20, f"{mode}: {seconds:.1f} s"               # interpreter start-up included
