"""One HTTP POST with an overall deadline and a ceiling on the answer's size.

``requests``' read timeout bounds each socket read, not the request: a server that sends one
byte every few seconds never trips it, and a 10 GB answer is read into memory whole. Here the
body is streamed (``read1``: whatever has arrived, at most a chunk) and counted after gzip
decoding, and reading stops past ``max_bytes``; the exchange runs in a daemon thread that the
caller waits for until the deadline, so connecting, the headers and a trickling body are all
bounded. A thread left behind at the deadline stops at its next chunk (or read timeout).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

CHUNK = 1 << 16
ERROR_BODY_BYTES = 1 << 16     # of a non-200 answer, enough for its message


class DeadlinePassed(Exception):
    """No complete answer before the deadline."""


class TooLarge(Exception):
    """The answer is larger than ``max_bytes`` (``size`` as far as it was read or declared)."""

    def __init__(self, size: int, declared: bool):
        self.size = size
        self.declared = declared
        super().__init__(size)


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time ``seconds`` from when it was made."""

    seconds: float
    end: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(float(seconds), time.monotonic() + float(seconds))

    def remaining(self) -> float:
        return self.end - time.monotonic()


def post(session, url: str, *, data: dict, headers: dict, auth, timeout: tuple[float, float], deadline: Deadline,
         max_bytes: int) -> tuple[int, bytes]:
    """(HTTP status, body) of a POST, within ``deadline`` (DeadlinePassed) and ``max_bytes``
    (TooLarge; a non-200 body is cut at ERROR_BODY_BYTES instead). Network errors are raised as
    ``requests``/``urllib3`` raise them."""
    left = deadline.remaining()
    if left <= 0:
        raise DeadlinePassed
    outcome: dict = {}
    done, stop = threading.Event(), threading.Event()
    timeout = (max(0.01, min(timeout[0], left)), max(0.01, min(timeout[1], left)))

    def exchange() -> None:
        try:
            outcome["answer"] = _exchange(session, url, data, headers, auth, timeout, max_bytes, stop)
        except BaseException as exc:  # noqa: BLE001 — handed to the waiting caller
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=exchange, name="fragviz-prometheus-post", daemon=True).start()
    if not done.wait(max(0.0, deadline.remaining())):
        stop.set()
        raise DeadlinePassed
    if "error" in outcome:
        raise outcome["error"]
    return outcome["answer"]


def _exchange(session, url, data, headers, auth, timeout, max_bytes: int, stop: threading.Event):
    with session.post(url, data=data, headers=headers, auth=auth, timeout=timeout, stream=True) as response:
        status = response.status_code
        cap = max_bytes if status == 200 else ERROR_BODY_BYTES
        declared = (response.headers.get("Content-Length") or "").strip()
        if status == 200 and declared.isdigit() and int(declared) > cap \
                and not response.headers.get("Content-Encoding"):
            raise TooLarge(int(declared), True)
        body = bytearray()
        while not stop.is_set():
            chunk = response.raw.read1(CHUNK, decode_content=True)
            if not chunk:
                break
            body += chunk
            if len(body) > cap:
                if status != 200:
                    del body[cap:]
                    break
                raise TooLarge(len(body), False)
        return status, bytes(body)
