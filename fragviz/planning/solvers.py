"""The packing solvers, each registered once: its name (``fragviz pack --solver NAME``,
``PlanSettings.solver``), its label (what the What-if page shows) and the function that solves a
:class:`~fragviz.planning.problem.PackProblem` into a :class:`~fragviz.planning.problem.PackResult`.

The CLI's ``--solver`` choices, the What-if page's solver options and the benchmarks read this
registry, so adding a solver is one module with its solve function plus one :func:`register`
line below. A function given as ``"module:function"`` is imported on first use (CP-SAT needs
OR-Tools, which a dashboard without it never loads).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .problem import PackProblem, PackResult


@dataclass(frozen=True)
class Solver:
    name: str
    label: str
    function: str | Callable[[PackProblem], PackResult]     # the function, or "module:function"

    def load(self) -> Callable[[PackProblem], PackResult]:
        """The solve function (imports its module; ImportError when a dependency is missing)."""
        if callable(self.function):
            return self.function
        module, _, name = self.function.partition(":")
        return getattr(importlib.import_module(module), name)

    def solve(self, problem: PackProblem) -> PackResult:
        return self.load()(problem)


SOLVERS: dict[str, Solver] = {}


def register(solver: Solver) -> Solver:
    """Offer ``solver`` everywhere under its name (a later registration of the name replaces it)."""
    SOLVERS[solver.name] = solver
    return solver


def get(name: str) -> Solver:
    try:
        return SOLVERS[name]
    except KeyError:
        raise ValueError(f"unknown solver '{name}'; expected one of {', '.join(SOLVERS)}") from None


def names() -> list[str]:
    """The registered names, in registration order (the first is the default)."""
    return list(SOLVERS)


class _Labels(Mapping):
    """Name -> label of every registered solver, read live from the registry."""

    def __getitem__(self, name: str) -> str:
        return SOLVERS[name].label

    def __iter__(self) -> Iterator[str]:
        return iter(SOLVERS)

    def __len__(self) -> int:
        return len(SOLVERS)

    def __repr__(self) -> str:
        return repr(dict(self))


LABELS: Mapping[str, str] = _Labels()

register(Solver("heuristic", "Heuristic (fast)", "fragviz.planning.heuristic:solve_heuristic"))
register(Solver("cpsat", "CP-SAT (exact, slower)", "fragviz.planning.cpsat:solve_cpsat"))
