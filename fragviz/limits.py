"""Resource ceilings: how much input fragviz accepts before it refuses with a clear message.

Every ceiling has a default that fits clusters far larger than any real one, and a setting
(environment variable ``FRAGVIZ_LIMIT_<NAME>``, e.g. ``FRAGVIZ_LIMIT_MAX_FILE_MB=4096``) for a
user who needs more. :func:`limits` reads them at call time, so nothing global is mutated.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from .errors import FragvizError

INT64_MAX = 2**63 - 1
# Times fragviz handles (pandas' nanosecond range is 1677-09-21 .. 2262-04-11; this is narrower
# so arithmetic on them never leaves it).
TIME_MIN = "1970-01-01"
TIME_MAX = "2200-01-01"


@dataclass(frozen=True)
class Limits:
    max_file_mb: int = 1024            # one input file (after gzip decompression)
    max_gzip_ratio: int = 200          # how many times a gzip file may grow beyond its first 16 MB
    max_upload_mb: int = 200           # one file uploaded on the Data page
    max_json_depth: int = 100          # nesting of JSON objects and arrays
    max_yaml_aliases: int = 100        # YAML alias (*name) uses in one document
    max_series_points: int = 5_000_000  # points of one series after regularising to its step
    max_scenario_nodes: int = 200_000  # nodes of a cluster after applying a what-if scenario
    max_scenario_pods: int = 1_000_000  # pods of a cluster after applying a what-if scenario
    max_prometheus_mb: int = 512       # one Prometheus response body
    prometheus_deadline_s: int = 120   # one Prometheus query, all retries and reads included
    max_yaml_kb: int = 256             # one YAML file (what-if scenario, PromQL catalog): parsed in pure Python

    def bytes(self, name: str) -> int:
        return int(getattr(self, name)) * (1 << 20)


def limits(environ=None) -> Limits:
    """The ceilings, defaults overridden by ``FRAGVIZ_LIMIT_<NAME>`` environment variables."""
    environ = os.environ if environ is None else environ
    values = {}
    for spec in fields(Limits):
        key = f"FRAGVIZ_LIMIT_{spec.name.upper()}"
        text = environ.get(key)
        if text is None or not text.strip():
            continue
        try:
            value = int(text.strip())
        except ValueError:
            raise FragvizError(f"{key}={text!r}: expected a positive whole number") from None
        if not 0 < value <= INT64_MAX:
            raise FragvizError(f"{key}={text!r}: expected a positive whole number")
        values[spec.name] = value
    return Limits(**values)


def setting_hint(name: str) -> str:
    """The words telling a user how to raise ceiling ``name``."""
    return f"raise it with FRAGVIZ_LIMIT_{name.upper()} if this input is genuine"
