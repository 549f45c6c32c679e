"""Reading tabular files (paths or uploaded file objects) with errors that name the file."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..errors import InputError


def read_table(source, name: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV from a path or a file-like object; everything as text, parsed later."""
    label = name or getattr(source, "name", None) or str(source)
    label = Path(str(label)).name
    try:
        if isinstance(source, (bytes, bytearray)):
            source = io.BytesIO(source)
        frame = pd.read_csv(source, dtype=str, keep_default_na=False, compression="infer")
    except FileNotFoundError as exc:
        raise InputError("file not found", file=label) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file ({str(exc).strip().splitlines()[0]})", file=label) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.replace({"": None})
    return frame, label


def require_columns(frame: pd.DataFrame, required: list[str], label: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; expected at least {', '.join(required)} "
                         f"(found {', '.join(frame.columns) or 'none'})", file=label)
