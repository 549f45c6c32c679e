"""The one reader of the paper's replay order files (fragviz.sources.orders), as the replay, the
sweep and `fragviz pack --order-file` use it."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from fragviz.errors import InputError
from fragviz.placement.replay import paper_order
from fragviz.sources.orders import order_pods, read_node_ranks, read_order_names, read_replay_order

TRACE = pd.DataFrame({"name": ["a", "b", "c"], "cpu_milli": [1000, 2000, 3000]})
NODES = pd.DataFrame({"name": ["n1", "n2"]})


def write_gz(path, text: str) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(text)


def test_plain_and_gzip_files_read_the_same_names(tmp_path):
    text = "b\n\n  a-tuned-0  \nc\n"                      # blank lines dropped, spaces stripped
    (tmp_path / "order.txt").write_text(text)
    write_gz(tmp_path / "order.txt.gz", text)
    assert read_order_names(tmp_path / "order.txt") == read_order_names(tmp_path / "order.txt.gz") == ["b", "a-tuned-0", "c"]


def test_clones_copy_the_pod_they_name(tmp_path):
    pods = order_pods(TRACE, ["c", "a", "a-tuned-0", "a-tuned-1"])
    assert pods["name"].tolist() == ["c", "a", "a-tuned-0", "a-tuned-1"]
    assert pods["cpu_milli"].tolist() == [3000, 1000, 1000, 1000]       # a clone has its pod's shape
    with pytest.raises(InputError, match=r"order\.txt: pod 'z-tuned-0' of the order file is not in the trace"):
        order_pods(TRACE, ["a", "z-tuned-0"], file="order.txt")


def test_a_paper_order_is_the_pods_file_order_and_the_node_ranks(tmp_path):
    write_gz(tmp_path / "seed7.pods.txt.gz", "c\na\nc-tuned-0\n")
    write_gz(tmp_path / "seed7.nodes.txt.gz", "0002-n1\n0001-n2\n")
    files = read_replay_order(tmp_path, 7)
    assert files.pods == ["c", "a", "c-tuned-0"] and files.node_ranks == {"n1": 2, "n2": 1}
    order = paper_order(files, TRACE, NODES)
    assert order.pods == [2, 0, 2] and order.names == ["c", "a", "c-tuned-0"]
    assert order.node_priority.tolist() == [2, 1]


def test_bad_order_files_are_input_errors_naming_the_file(tmp_path):
    (tmp_path / "seed1.pods.txt.gz").write_text("not gzip")
    write_gz(tmp_path / "seed1.nodes.txt.gz", "0001-n1\n")
    with pytest.raises(InputError, match=r"seed1\.pods\.txt\.gz: the name ends in \.gz but the content is not gzip"):
        read_replay_order(tmp_path, 1)
    write_gz(tmp_path / "nodes.txt.gz", "0001-n1\nn2\n")
    with pytest.raises(InputError, match=r"nodes\.txt\.gz, row 2: expected lines NNNN-<node name>, got 'n2'"):
        read_node_ranks(tmp_path / "nodes.txt.gz")
    with pytest.raises(InputError, match="no replay order for seed 2"):
        read_replay_order(tmp_path, 2)
    with pytest.raises(InputError, match=r"missing\.txt: file not found"):
        read_order_names(tmp_path / "missing.txt")
    write_gz(tmp_path / "seed3.pods.txt.gz", "a\n")
    write_gz(tmp_path / "seed3.nodes.txt.gz", "0001-n1\n")
    with pytest.raises(InputError, match=r"seed3\.nodes\.txt\.gz: no tie-break rank for node\(s\) n2"):
        paper_order(read_replay_order(tmp_path, 3), TRACE, NODES)
