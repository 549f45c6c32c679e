"""PodDisruptionBudgets -> the model's per-pod eviction limits (``pdb``, ``pdb_allowed``).

Pure, no I/O: PodDisruptionBudget objects are the API's JSON (policy/v1) as plain dicts, so
the same functions serve ``kubectl get pdb -A -o json`` dumps and the live API source.

Matching follows the eviction API. A PDB covers the pods of its own namespace that its
``spec.selector`` selects: ``matchLabels`` and ``matchExpressions`` (operators ``In``,
``NotIn``, ``Exists``, ``DoesNotExist``) all have to hold. In policy/v1 an empty selector
``{}`` selects every pod of the namespace and a missing (null) one selects none. A pod
covered by several PDBs cannot be evicted at all (the API server refuses: "does not support
multiple PodDisruptionBudgets"), so it gets the first of them by name and 0 disruptions
allowed; :func:`overlap_note` says which pods that is.

A malformed object is an :class:`~fragviz.errors.InputError` naming the file, the item
number (as the row), the PDB and the field, e.g. ``spec.selector.matchExpressions[0].operator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, collect
from ..model import NO_PDB
from .k8s_items import INT32, as_object, control_characters, convert_items, describe

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector; ``matchLabels`` entries are ``In`` with one value."""

    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: dict) -> bool:
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels   # DoesNotExist


@dataclass(frozen=True)
class Budget:
    """A PodDisruptionBudget as matching needs it. ``requirements`` None is a null selector
    (selects no pod); ``()`` is the empty selector (every pod of the namespace)."""

    namespace: str
    name: str
    requirements: tuple[Requirement, ...] | None
    allowed: int

    @property
    def key(self) -> str:
        """``namespace/name``, the model's ``pdb`` value."""
        return f"{self.namespace}/{self.name}"

    def selects(self, labels: dict) -> bool:
        return self.requirements is not None and all(r.matches(labels) for r in self.requirements)


# -- objects -> budgets ---------------------------------------------------------------------

def parse_pdb(obj: dict) -> Budget:
    """One PodDisruptionBudget object -> a :class:`Budget`; InputError (with the field) when malformed."""
    meta = as_object(obj.get("metadata"), "metadata")
    spec = as_object(obj.get("spec"), "spec")
    status = as_object(obj.get("status"), "status")
    name = meta.get("name")
    if not isinstance(name, str) or not name or control_characters(name):
        raise InputError(f"expected the PodDisruptionBudget's name (printable text), got {describe(name)}",
                         field="metadata.name")
    namespace = meta.get("namespace", "default")
    if not isinstance(namespace, str) or not namespace or control_characters(namespace):
        raise InputError(f"expected a namespace (printable text), got {describe(namespace)}", field="metadata.namespace")
    allowed = status.get("disruptionsAllowed", 0)
    if allowed is None:
        allowed = 0
    if isinstance(allowed, bool) or not isinstance(allowed, int) or not 0 <= allowed <= INT32[1]:
        raise InputError(f"expected a whole number >= 0 (at most {INT32[1]}), got {describe(allowed)}",
                         field="status.disruptionsAllowed")
    return Budget(namespace, name, parse_selector(spec.get("selector")), allowed)


def parse_selector(selector, field: str = "spec.selector") -> tuple[Requirement, ...] | None:
    """A LabelSelector -> its requirements; None for a null selector."""
    if selector is None:
        return None
    selector = as_object(selector, field)
    requirements = []
    for key, value in as_object(selector.get("matchLabels"), f"{field}.matchLabels").items():
        if not isinstance(value, str):
            raise InputError(f"expected a label value (a string), got {value!r:.40}", field=f"{field}.matchLabels.{key}")
        requirements.append(Requirement(str(key), "In", frozenset([value])))
    expressions = selector.get("matchExpressions")
    if expressions is not None and not isinstance(expressions, list):
        raise InputError(f"expected a list, got {type(expressions).__name__}", field=f"{field}.matchExpressions")
    for i, expr in enumerate(expressions or []):
        where = f"{field}.matchExpressions[{i}]"
        expr = as_object(expr, where)
        key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values")
        if not isinstance(key, str) or not key:
            raise InputError(f"expected a label key, got {key!r:.40}", field=f"{where}.key")
        if operator not in OPERATORS:
            raise InputError(f"unknown operator {operator!r:.40}; expected one of {', '.join(OPERATORS)}",
                             field=f"{where}.operator")
        values = [] if values is None else values
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InputError(f"expected a list of strings, got {values!r:.60}", field=f"{where}.values")
        if operator in ("In", "NotIn") and not values:
            raise InputError(f"operator {operator} needs at least one value", field=f"{where}.values")
        if operator in ("Exists", "DoesNotExist") and values:
            raise InputError(f"operator {operator} takes no values, got {values!r:.60}", field=f"{where}.values")
        requirements.append(Requirement(key, operator, frozenset(values)))
    return tuple(requirements)


def read_pdbs(objects: list, file: str | None = None, problems: list[InputError] | None = None) -> list[Budget]:
    """Every object as a :class:`Budget`. Problems (file, 1-based item number as the row, PDB
    name, field) are appended to ``problems`` when given, else raised together."""
    own = problems is None
    problems = [] if own else problems
    budgets = list(convert_items(objects, "PodDisruptionBudget", parse_pdb, file, problems).values())
    if own:
        collect(problems, file, "the PodDisruptionBudgets")
    return budgets


# -- matching ---------------------------------------------------------------------------------

def match_pdbs(pods: pd.DataFrame, pdbs: list, file: str | None = None) -> pd.DataFrame:
    """For each pod (``namespace`` and ``labels``, a dict per row) the PDB covering it.

    ``pdbs`` are PodDisruptionBudget objects (dicts, checked with :func:`read_pdbs`; ``file``
    names them in errors) or :class:`Budget` s. The result has the index of ``pods`` and the
    columns ``pdb`` (``namespace/name``, ``""`` for none), ``pdb_allowed`` (disruptions the PDB
    allows now; -1 for none; 0 when several PDBs cover the pod) and ``pdb_matches`` (how many
    PDBs cover it).
    """
    budgets = [b if isinstance(b, Budget) else None for b in pdbs]
    if None in budgets:
        budgets = read_pdbs(pdbs, file)
    n = len(pods)
    first: list[Budget | None] = [None] * n
    matches = np.zeros(n, dtype=np.int64)
    labels = [v if isinstance(v, dict) else {} for v in pods["labels"]] if "labels" in pods else [{}] * n
    by_namespace = pd.Series(np.arange(n)).groupby(pods["namespace"].to_numpy()).indices if n else {}
    for budget in sorted(budgets, key=lambda b: (b.namespace, b.name)):
        if budget.requirements is None:
            continue
        for pos in by_namespace.get(budget.namespace, ()):
            if budget.selects(labels[pos]):
                matches[pos] += 1
                if first[pos] is None:
                    first[pos] = budget
    return pd.DataFrame({
        "pdb": pd.Series(["" if b is None else b.key for b in first], index=pods.index, dtype="string"),
        "pdb_allowed": pd.Series([NO_PDB if b is None else (b.allowed if m == 1 else 0) for b, m in zip(first, matches)],
                                 index=pods.index, dtype="int64"),
        "pdb_matches": pd.Series(matches, index=pods.index, dtype="int64"),
    })


def overlap_note(pods: pd.DataFrame, matched: pd.DataFrame, shown: int = 5) -> str | None:
    """A sentence about the pods several PDBs cover (``matched`` from :func:`match_pdbs`), or None."""
    several = matched["pdb_matches"] > 1
    if not several.any():
        return None
    names = [f"{ns}/{name} ({pdb} and {m - 1} more)" for ns, name, pdb, m in
             zip(pods.loc[several, "namespace"], pods.loc[several, "name"], matched.loc[several, "pdb"],
                 matched.loc[several, "pdb_matches"])]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    count = len(names)
    return (f"{count} pod{'s are' if count != 1 else ' is'} covered by more than one PodDisruptionBudget, which the "
            f"eviction API refuses, so {'they count' if count != 1 else 'it counts'} as 0 disruptions allowed: "
            f"{', '.join(names[:shown])}{more}")
