"""Comparisons with the ATC'23 paper's published results (read by :mod:`fragviz.sources.published`):
one run's curves against the paper's, and a sweep's summary against the paper's means, seed
ranges and policy ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..sources.published import CURVE_FILES, short_name

TRACES = ("default", "cpu050", "cpu200", "gpushare40", "gpushare100", "multigpu20", "multigpu40", "gpuspec20")
POLICIES = ("fgd", "bestfit", "packing", "clustering", "dotprod", "random")


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


def compare_to_paper(summary: pd.DataFrame, paper_summary: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """``summary`` (``sweep.summarise``) with the paper's mean and std (``paper_summary``:
    ``sources.published.read_summary``), its seed range (:func:`final_spread` of ``tables``:
    ``sources.published.read_curves``), whether fragviz's mean lies in that range, and the rank of
    each policy within its trace (1 = highest mean) for fragviz and the paper (among the policies
    in ``summary``); ``same_ranking`` is true where a trace's whole order agrees."""
    paper = paper_summary.rename(columns={"final_mean": "paper_mean", "final_std": "paper_std"})
    spread = final_spread(tables).reset_index()[["trace", "policy", "paper_min", "paper_max"]]
    paper = paper[["trace", "policy", "paper_mean", "paper_std"]].merge(spread, on=["trace", "policy"])
    paper = paper.rename(columns={"trace": "key"})
    out = summary.assign(key=summary["trace"].map(short_name)).merge(paper, on=["key", "policy"], how="left")
    out["within_paper_range"] = (out["mean"] >= out["paper_min"]) & (out["mean"] <= out["paper_max"])
    out["rank"] = out.groupby("trace")["mean"].rank(ascending=False, method="min").astype("Int64")
    out["paper_rank"] = out.groupby("trace")["paper_mean"].rank(ascending=False, method="min").astype("Int64")
    agrees = (out["rank"] == out["paper_rank"]).fillna(False).astype(bool)
    out["same_ranking"] = agrees.groupby(out["trace"]).transform("all")
    return out.drop(columns="key")
