"""The paper's replay order files (``replay_order/<trace>/seed<S>.pods.txt.gz``): one pod name a
line, clones ``<pod>-tuned-<i>`` copying the named pod."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError


def order_pods(trace: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The pods named in a replay_order pods file: ``<pod>`` rows of ``trace`` and clones
    ``<pod>-tuned-<i>`` copying the named pod (all pending)."""
    rows = pd.Index(trace["name"].astype(str))
    base = [name.split("-tuned-")[0] for name in names]
    pos = rows.get_indexer(base)
    if (pos < 0).any():
        raise InputError(f"pod '{names[int(np.flatnonzero(pos < 0)[0])]}' of the order file is not in the trace")
    pods = trace.iloc[pos].copy()
    pods["name"] = names
    return pods.reset_index(drop=True)


def read_order_names(path) -> list[str]:
    import gzip
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]
