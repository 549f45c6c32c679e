"""The ATC'23 paper's published results (``../shared/data/openb/``) and comparisons with them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .sweep import short_name

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


def paper_ranges(curves_csv) -> pd.DataFrame:
    """Per (trace, policy): min and max of the paper's final allocation (column 130) over its seeds."""
    curves = pd.read_csv(curves_csv)
    final = curves.groupby(["trace", "policy"])["130"]
    return pd.DataFrame({"paper_min": final.min(), "paper_max": final.max()}).reset_index()


def compare_to_paper(summary: pd.DataFrame, paper_summary_csv, paper_curves_csv=None) -> pd.DataFrame:
    """``summary`` with the paper's mean, std and seed range (``paper_curves_csv`` defaults to
    paper_allocation_curves.csv beside the summary), whether fragviz's mean lies in that range,
    and the rank of each policy within its trace (1 = highest mean) for fragviz and the paper
    (among the policies in ``summary``); ``same_ranking`` is true where a trace's whole order agrees."""
    paper = pd.read_csv(paper_summary_csv).rename(columns={"final_mean": "paper_mean", "final_std": "paper_std"})
    curves = Path(paper_curves_csv) if paper_curves_csv else Path(paper_summary_csv).with_name("paper_allocation_curves.csv")
    paper = paper[["trace", "policy", "paper_mean", "paper_std"]].merge(paper_ranges(curves), on=["trace", "policy"])
    paper["key"] = paper["trace"].map(short_name)
    out = summary.assign(key=summary["trace"].map(short_name)).merge(paper.drop(columns="trace"), on=["key", "policy"],
                                                                      how="left")
    out["within_paper_range"] = (out["mean"] >= out["paper_min"]) & (out["mean"] <= out["paper_max"])
    out["rank"] = out.groupby("trace")["mean"].rank(ascending=False, method="min").astype("Int64")
    out["paper_rank"] = out.groupby("trace")["paper_mean"].rank(ascending=False, method="min").astype("Int64")
    agrees = (out["rank"] == out["paper_rank"]).fillna(False).astype(bool)
    out["same_ranking"] = agrees.groupby(out["trace"]).transform("all")
    return out.drop(columns="key")
