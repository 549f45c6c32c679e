"""The PromQL catalog: named queries and macros from ``queries.yaml``, optionally overridden
by a user's YAML file of the same shape; rendered for one cluster selector."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import InputError

DEFAULT_CATALOG = Path(__file__).with_name("queries.yaml")
_MACRO = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class Query:
    name: str
    promql: str      # rendered: every macro expanded
    help: str


class Catalog:
    """Macros and query templates; :meth:`get` renders a query for the settings in force."""

    def __init__(self, macros: dict[str, str], queries: dict[str, dict], origin: str = "built-in"):
        self.macros = dict(macros)
        self.queries = dict(queries)
        self.origin = origin

    @classmethod
    def load(cls, override: str | Path | None = None) -> Catalog:
        base = _read(DEFAULT_CATALOG)
        macros, queries = dict(base.get("macros", {})), dict(base.get("queries", {}))
        origin = "built-in"
        if override:
            extra = _read(Path(override))
            macros |= extra.get("macros") or {}
            for name, entry in (extra.get("queries") or {}).items():
                if not isinstance(entry, dict) or "promql" not in entry:
                    raise InputError("each query needs a 'promql' entry", file=str(override), field=f"queries.{name}")
                queries[name] = {**queries.get(name, {}), **entry}
            origin = f"built-in + {Path(override).name}"
        return cls(macros, queries, origin)

    def get(self, name: str, cluster_label: str = "", cluster: str = "", **params) -> Query:
        """The query ``name`` with macros expanded; ``params`` fill query parameters such as
        ``${window}``. A cluster selector restricts every KSM and DCGM selector."""
        if name not in self.queries:
            raise KeyError(f"no query '{name}' in the PromQL catalog ({self.origin})")
        values = self.macros | {k: str(v) for k, v in params.items()}
        values["cluster"] = f'{cluster_label}="{escape_label_value(cluster)}",' if cluster_label else ""
        entry = self.queries[name]
        return Query(name, expand(entry["promql"], values, name), entry.get("help", ""))


def expand(template: str, values: dict[str, str], name: str = "query", depth: int = 0) -> str:
    if depth > 10:
        raise ValueError(f"macros in '{name}' refer to each other in a loop")

    def one(match):
        key = match.group(1)
        if key not in values:
            raise KeyError(f"'{name}' uses ${{{key}}}, which is neither a macro nor a parameter")
        return expand(values[key], values, name, depth + 1)
    return " ".join(_MACRO.sub(one, template).split())


def escape_label_value(value: str) -> str:
    """A string safe inside a PromQL double-quoted label value."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise InputError("PromQL catalog file not found", file=str(path)) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})", file=str(path)) from exc
    if not isinstance(data, dict):
        raise InputError("expected a mapping with 'macros' and 'queries'", file=str(path))
    return data
