"""The PromQL catalog: named queries and macros from ``queries.yaml``, optionally overridden
by a user's YAML file of the same shape; rendered for one cluster selector.

A catalog is checked whole when it loads, so a bad override fails at once with an
:class:`~fragviz.errors.InputError` naming the file and the field, never later in the middle of
a query: the file is read like every input (:mod:`fragviz.sources.yamlsafe`: missing file,
directory, encoding, size, aliases), its shape is checked (``macros`` a mapping of names to
text, each query a mapping with ``promql`` text and optional ``help`` text, unknown keys
named, all problems at once), and every query is rendered (unknown macros, macros referring to
each other in a loop, nesting deeper than :data:`MAX_MACRO_DEPTH`, a query growing past
:data:`MAX_QUERY_CHARS`).

Macros (``${name}``) expand recursively. Parameters (:data:`PARAMETERS`, e.g. ``${window}``) and
``${cluster}`` are filled per call and inserted as they are, never expanded further.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, collect
from . import raw
from .guard import reading
from .yamlsafe import load_yaml

DEFAULT_CATALOG = Path(__file__).with_name("queries.yaml")
_MACRO = re.compile(r"\$\{(\w+)\}")
_NAME = re.compile(r"\w+")
# Parameters fragviz fills per query, with the default used when a call leaves one out (and to
# render every query when the catalog loads).
PARAMETERS = {"window": "1h", "threshold": "5"}
MAX_MACRO_DEPTH = 20          # macros inside macros
MAX_QUERY_CHARS = 100_000     # one rendered query (the built-in ones are under 2,000)
TOP_KEYS = ("macros", "queries")
QUERY_KEYS = ("promql", "help")


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
        """The built-in catalog, with ``override`` (a path, bytes or an upload) merged over it;
        every query is rendered once here, so a bad value fails now, naming the file."""
        macros, queries = _read(DEFAULT_CATALOG, "queries.yaml (built-in)", override=False)
        origin, label = "built-in", "queries.yaml (built-in)"
        if override:
            label = raw.label_of(override, "PromQL catalog")
            extra_macros, extra_queries = _read(override, label, override=True)
            macros |= extra_macros
            for name, entry in extra_queries.items():
                queries[name] = {**queries.get(name, {}), **entry}
            origin = f"built-in + {label}"
        catalog = cls(macros, queries, origin)
        with reading(label):
            catalog.check(label)
        return catalog

    def check(self, file: str | None = None) -> None:
        """Render every query (default parameters, with and without a cluster selector); one
        InputError naming ``file`` lists every query that cannot be rendered."""
        problems = []
        for selector in (("", ""), ("cluster", "c")):
            for name in self.queries:
                try:
                    self.get(name, *selector)
                except (KeyError, ValueError) as exc:
                    problems.append(InputError(exc.args[0], file=file, field=f"queries.{name}.promql"))
            if problems:
                break
        collect(problems, file, "the PromQL catalog")

    def get(self, name: str, cluster_label: str = "", cluster: str = "", **params) -> Query:
        """The query ``name`` with macros expanded; ``params`` fill query parameters such as
        ``${window}`` (:data:`PARAMETERS` gives the defaults). A cluster selector restricts every
        KSM and DCGM selector."""
        if name not in self.queries:
            raise KeyError(f"no query '{name}' in the PromQL catalog ({self.origin})")
        literals = PARAMETERS | {k: str(v) for k, v in params.items()}
        literals["cluster"] = f'{cluster_label}="{escape_label_value(cluster)}",' if cluster_label else ""
        entry = self.queries[name]
        return Query(name, expand(entry["promql"], self.macros, name, literals=literals), entry.get("help", ""))


def expand(template: str, values: dict[str, str], name: str = "query", depth: int = 0, *,
           literals: dict[str, str] | None = None) -> str:
    """``template`` with every ``${macro}`` of ``values`` expanded (recursively) and every
    ``${literal}`` inserted as it is; whitespace runs become one space. KeyError for an unknown
    name; ValueError for a loop, nesting deeper than :data:`MAX_MACRO_DEPTH` or a result longer
    than :data:`MAX_QUERY_CHARS`."""
    return _Expander(values, literals or {}, name).text(str(template), (), depth)


class _Expander:
    """Expands macros once each (memoised), so neither time nor size can blow up."""

    def __init__(self, macros: dict[str, str], literals: dict[str, str], name: str):
        self.macros, self.literals, self.name = macros, literals, name
        self.done: dict[str, str] = {}

    def macro(self, key: str, chain: tuple[str, ...], depth: int) -> str:
        if key in self.done:
            return self.done[key]
        if key in chain:
            loop = " -> ".join(chain[chain.index(key):] + (key,))
            raise ValueError(f"macros in '{self.name}' refer to each other in a loop ({loop})")
        if depth >= MAX_MACRO_DEPTH:
            raise ValueError(f"macros in '{self.name}' are nested more than {MAX_MACRO_DEPTH} deep "
                             f"({' -> '.join(chain[-5:])} -> ...)")
        self.done[key] = self.text(self.macros[key], chain + (key,), depth + 1)
        return self.done[key]

    def text(self, template: str, chain: tuple[str, ...], depth: int) -> str:
        size = len(template)

        def one(match):
            nonlocal size
            key = match.group(1)
            if key in self.literals:
                value = self.literals[key]
            elif key in self.macros:
                value = self.macro(key, chain, depth)
            else:
                via = f" (in macro '{chain[-1]}')" if chain else ""
                raise KeyError(f"'{self.name}' uses ${{{key}}}{via}, which is neither a macro nor a parameter")
            size += len(value)
            if size > MAX_QUERY_CHARS:
                raise ValueError(f"'{self.name}' grows past {MAX_QUERY_CHARS:,} characters when its macros expand")
            return value
        if size > MAX_QUERY_CHARS:
            raise ValueError(f"'{self.name}' is longer than {MAX_QUERY_CHARS:,} characters")
        return " ".join(_MACRO.sub(one, template).split())


def escape_label_value(value: str) -> str:
    """A string safe inside a PromQL double-quoted label value."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# -- reading and checking a catalog file --------------------------------------------------------

def _read(source, label: str, *, override: bool) -> tuple[dict[str, str], dict[str, dict]]:
    """(macros, queries) of one catalog file, its shape checked; every problem at once."""
    data = load_yaml(source, label)
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping with 'macros' and 'queries', got {_shown(data)}", file=label)
    problems: list[InputError] = []

    def problem(field: str, message: str) -> None:
        problems.append(InputError(message, file=label, field=field))

    for key in data:
        if key not in TOP_KEYS:
            problem(str(key), f"unknown key; expected {' and '.join(TOP_KEYS)}")
    macros = {}
    for name, value in _mapping(data.get("macros"), "macros", problem).items():
        if _named(name, "macros", problem):
            if isinstance(value, str):
                macros[name] = value
            else:
                problem(f"macros.{name}", f"expected the macro's PromQL text, got {_shown(value)}")
    queries = {}
    for name, entry in _mapping(data.get("queries"), "queries", problem).items():
        if not _named(name, "queries", problem):
            continue
        where = f"queries.{name}"
        if not isinstance(entry, dict):
            problem(where, f"expected a mapping with 'promql' (and 'help'), got {_shown(entry)}")
            continue
        for key in entry:
            if key not in QUERY_KEYS:
                problem(f"{where}.{key}", f"unknown key; expected {' and '.join(QUERY_KEYS)}")
        if "promql" not in entry:
            problem(where, "each query needs a 'promql' entry")
        for key in QUERY_KEYS:
            if key in entry and not isinstance(entry[key], str):
                problem(f"{where}.{key}", f"expected text, got {_shown(entry[key])}")
        queries[name] = {k: v for k, v in entry.items() if k in QUERY_KEYS}
    collect(problems, label, "the PromQL catalog")
    return macros, queries


def _mapping(value, field: str, problem) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problem(field, f"expected a mapping of names to entries, got {_shown(value)}")
        return {}
    return value


def _named(name, field: str, problem) -> bool:
    if isinstance(name, str) and _NAME.fullmatch(name):
        return True
    problem(f"{field}.{name!r:.40}", f"expected a name of letters, digits and _, got {_shown(name)}")
    return False


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
