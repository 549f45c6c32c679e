"""The ATC'23 paper's published results (``../shared/data/openb/``) and comparisons with them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CURVE_FILES = {"alloc": "paper_allocation_curves.csv", "frag": "paper_frag_curves.csv",
               "frag_ratio": "paper_frag_ratio_curves.csv"}
TRACES = ("default", "cpu050", "cpu200", "gpushare40", "gpushare100", "multigpu20", "multigpu40", "gpuspec20")
POLICIES = ("fgd", "bestfit", "packing", "clustering", "dotprod", "random")
COLUMNS = [str(k) for k in range(131)]


def read_curves(openb_dir: Path | str) -> dict[str, pd.DataFrame]:
    """The three curve tables, indexed by (trace, policy, seed) with trace names like ``default``."""
    out = {}
    for key, name in CURVE_FILES.items():
        table = pd.read_csv(Path(openb_dir) / name)
        table["trace"] = table["trace"].str.removeprefix("openb_pod_list_")
        out[key] = table.set_index(["trace", "policy", "seed"])[COLUMNS].astype(float)
    return out


def paper_curves(tables: dict[str, pd.DataFrame], trace: str, policy: str, seed: int) -> pd.DataFrame:
    """One run's three curves (index 0..130, NaN where the paper leaves a blank)."""
    return pd.DataFrame({key: table.loc[(trace, policy, seed)].to_numpy() for key, table in tables.items()},
                        index=np.arange(131))


def curve_differences(mine: pd.DataFrame, paper: pd.DataFrame) -> dict[str, float]:
    """Largest absolute difference per curve (percentage points); inf where blanks differ."""
    out = {}
    for key in CURVE_FILES:
        a, b = mine[key].to_numpy(dtype=float), paper[key].to_numpy(dtype=float)
        if (np.isnan(a) != np.isnan(b)).any():
            out[key] = float("inf")
        else:
            both = ~np.isnan(a)
            out[key] = float(np.abs(a[both] - b[both]).max(initial=0.0))
    return out


def final_spread(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per (trace, policy): the paper's final allocation (column 130) mean, min and max over seeds."""
    final = tables["alloc"]["130"].groupby(level=["trace", "policy"])
    return pd.DataFrame({"paper_mean": final.mean(), "paper_min": final.min(), "paper_max": final.max(),
                         "paper_seeds": final.size()})
