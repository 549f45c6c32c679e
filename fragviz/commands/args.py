"""Command-line words that several commands share, turned into fragviz values."""

from __future__ import annotations

import argparse
from ..frag import JobShape


def parse_job(text: str) -> JobShape:
    """NAME:GPUS:MILLI:CPU_CORES:MEMORY_GIB, e.g. '8x GPU:8:1000:96:800'."""
    parts = text.split(":")
    if len(parts) != 5:
        raise argparse.ArgumentTypeError(f"job shape '{text}': expected NAME:GPUS:MILLI:CPU_CORES:MEMORY_GIB")
    try:
        return JobShape(parts[0], int(parts[1]), int(parts[2]), float(parts[3]) * 1000, float(parts[4]) * 1024)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"job shape '{text}': {exc}") from exc


PDBS_HELP = ("kubectl get pdb -A -o json (optional, with kubectl dumps): the pods' PodDisruptionBudget limits "
             "(without it they are unknown)")
