"""Where the shared data sets live: ``$FRAGVIZ_SHARED`` (default ``../shared`` beside the project
root). Tests, benchmarks and scripts read the openb trace and the forecast series from there."""

from __future__ import annotations

import os
from pathlib import Path


def shared_data(name: str) -> Path:
    """``$FRAGVIZ_SHARED/data/<name>``, e.g. ``shared_data("openb")``."""
    root = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("FRAGVIZ_SHARED", root.parent / "shared")) / "data" / name
