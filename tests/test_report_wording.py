"""The report's sentences: counts with the right plural, teams named once with their counts,
lists joined in plain English."""

from __future__ import annotations

import re

from fragviz.report.decision import Purchase, purchase_text
from fragviz.report.wording import and_list, counted, held_by
import pandas as pd


def test_counted_plural_and_singular():
    assert counted(1, "node") == "1 node"
    assert counted(2, "node") == "2 nodes"
    assert counted(0, "GPU") == "0 GPUs"
    assert counted(2.5, "GPU") == "2.5 GPUs"
    assert counted(1, "other team") == "1 other team"


def test_and_list():
    assert and_list([]) == "" and and_list(["a"]) == "a"
    assert and_list(["a", "b"]) == "a and b"
    assert and_list(["a", "b", "c"]) == "a, b and c"


def test_held_by_names_each_team_once_with_its_count():
    counts = {"research": 21, "recsys": 3, "vision": 1, "platform": 2, "data-eng": 1}
    text = held_by(counts)
    assert text == "research (21 GPUs), recsys (3 GPUs), platform (2 GPUs) and 2 other teams (2 GPUs)"
    for team in ("research", "recsys", "platform"):
        assert text.count(team) == 1
    # every name has its count, and no bare name is left without one
    assert all(re.search(rf"{team} \(\d+ GPUs?\)", text) for team in ("research", "recsys", "platform"))
    assert held_by({"research": 1, "recsys": 1, "vision": 1}) == "recsys (1 GPU), research (1 GPU) and vision (1 GPU)"
    assert held_by({"vision": 1}) == "vision (1 GPU)"


def test_purchase_sentence_says_how_many_of_what_by_when():
    when = pd.Timestamp("2026-12-14", tz="UTC")
    p = Purchase(45, 0, "NVIDIA-H100", 8, 6, when, None, 166.0, when, 0.0)
    text = purchase_text(p, True)
    assert text.startswith("Buy 6 nodes of 8 × NVIDIA-H100 (48 GPUs; 45 GPUs needed) by 14 Dec 2026")
    one = Purchase(3, 3, "Tesla-T4", 4, 1, when, when, 0.0, when, 0.0)
    assert purchase_text(one, True).startswith("Buy 1 node of 4 × Tesla-T4 (4 GPUs; 3 GPUs needed) by 14 Dec 2026")
    none = Purchase(0, 0, "Tesla-T4", 4, 0, None, None, 12.0, when, 0.0)
    assert purchase_text(none, True).startswith("No GPUs to buy in the next 30 days")
    assert "no history was loaded" in purchase_text(None, False)
