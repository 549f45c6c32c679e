"""The ATC'23 paper's published results beside the openb trace (``$FRAGVIZ_SHARED/data/openb``):
the allocation, fragmentation and fragmentation-ratio curves of every (trace, policy, seed) and
the summary of final allocations. Files name a trace by its pod file (``openb_pod_list_default``);
the tables read here use its short name (``default``), as ``replay_order/`` does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TRACE_PREFIX = "openb_pod_list_"
CURVE_FILES = {"alloc": "paper_allocation_curves.csv", "frag": "paper_frag_curves.csv",
               "frag_ratio": "paper_frag_ratio_curves.csv"}
SUMMARY_FILE = "paper_allocation_summary.csv"
COLUMNS = [str(k) for k in range(131)]


def short_name(trace: str) -> str:
    """The trace name without ``openb_pod_list_`` (``default``): its folder under replay_order/."""
    return trace.removeprefix(TRACE_PREFIX)


def read_curves(openb_dir: Path | str) -> dict[str, pd.DataFrame]:
    """The three curve tables, indexed by (trace, policy, seed) with trace names like ``default``."""
    out = {}
    for key, name in CURVE_FILES.items():
        table = pd.read_csv(Path(openb_dir) / name)
        table["trace"] = table["trace"].map(short_name)
        out[key] = table.set_index(["trace", "policy", "seed"])[COLUMNS].astype(float)
    return out


def read_summary(openb_dir: Path | str) -> pd.DataFrame:
    """The paper's summary: trace (short name), policy, final_mean, final_std, at100_mean, seeds."""
    table = pd.read_csv(Path(openb_dir) / SUMMARY_FILE)
    table["trace"] = table["trace"].map(short_name)
    return table
