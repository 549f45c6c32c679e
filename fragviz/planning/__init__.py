"""Offline planning: place pending pods and repack movable ones (heuristic and CP-SAT)."""
