"""Counting outcomes per reader, recording the "other" cases, and grouping them by signature."""

from __future__ import annotations

import base64
from collections import Counter, defaultdict

from .outcome import OTHER_KINDS

INLINE_MAX = 256 * 1024     # inputs up to this size go into the findings as base64


class Tally:
    """Per reader: cases, accepted, clean, other (by kind), the slowest case and the peak memory."""

    def __init__(self, readers):
        self.readers = list(readers)
        self.kinds: dict[str, Counter] = {r: Counter() for r in self.readers}
        self.slowest: dict[str, tuple[float, int]] = {}
        self.peak: dict[str, tuple[float, int]] = {}
        self.multiline: Counter = Counter()

    def add(self, result: dict) -> None:
        target = result["target"]
        self.kinds.setdefault(target, Counter())[result["kind"]] += 1
        seconds = float(result.get("seconds") or 0.0)
        if seconds >= self.slowest.get(target, (-1.0, 0))[0]:
            self.slowest[target] = (seconds, result["index"])
        grow = float(result.get("grow_mb") or 0.0)
        if grow >= self.peak.get(target, (-1.0, 0))[0]:
            self.peak[target] = (grow, result["index"])
        if result.get("kind") == "clean" and (result.get("stderr_lines") or 0) > 1:
            self.multiline[target] += 1

    def other(self, target: str) -> int:
        return sum(n for kind, n in self.kinds[target].items() if kind not in ("accepted", "clean"))

    def other_total(self) -> int:
        return sum(self.other(t) for t in self.kinds)

    def rows(self) -> list[dict]:
        rows = []
        for target in self.kinds:
            kinds = self.kinds[target]
            slow, slow_case = self.slowest.get(target, (0.0, 0))
            peak, peak_case = self.peak.get(target, (0.0, 0))
            rows.append({"reader": target, "cases": sum(kinds.values()), "accepted": kinds["accepted"],
                         "clean": kinds["clean"], "other": self.other(target),
                         **{kind: kinds[kind] for kind in OTHER_KINDS},
                         "slowest": f"{slow:.2f} s (#{slow_case})", "peak": f"+{peak:.0f} MB (#{peak_case})",
                         "multi-line": self.multiline[target]})
        return rows

    def table(self, markdown: bool = False) -> str:
        columns = ["reader", "cases", "accepted", "clean", "other", *OTHER_KINDS, "slowest", "peak"]
        rows = self.rows()
        if markdown:
            lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
            lines += ["| " + " | ".join(str(row[c]) for c in columns) + " |" for row in rows]
            return "\n".join(lines)
        widths = {c: max(len(c), *(len(str(row[c])) for row in rows)) if rows else len(c) for c in columns}
        lines = ["  ".join(f"{c:>{widths[c]}}" if i else f"{c:<{widths[c]}}" for i, c in enumerate(columns))]
        for row in rows:
            lines.append("  ".join(f"{row[c]!s:>{widths[c]}}" if i else f"{row[c]!s:<{widths[c]}}"
                                   for i, c in enumerate(columns)))
        multi = {r["reader"]: r["multi-line"] for r in rows if r["multi-line"]}
        if multi:
            lines.append("clean rejections printing more than one line on stderr: " +
                         ", ".join(f"{k} {v}" for k, v in multi.items()))
        return "\n".join(lines)


def finding(result: dict, inputs_dir=None) -> dict:
    """The record of one "other" case: the result, the case's input and how it was made."""
    from .cases import make_case
    record = {k: result.get(k) for k in ("target", "index", "seed", "kind", "exception", "message", "location",
                                         "seconds", "peak_mb", "grow_mb", "exit", "stderr", "tail") if k in result}
    try:
        case = make_case(result["target"], result["seed"], result["index"])
    except Exception as exc:  # noqa: BLE001 - the record is still useful without the input
        record["case_error"] = repr(exc)
        return record
    record |= {"case_kind": case.kind, "file": case.name, "seed_file": case.seed_file, "upload": case.upload,
               "what": case.what, "argv": case.argv, "size": len(case.data)}
    if len(case.data) <= INLINE_MAX:
        record["input_b64"] = base64.b64encode(case.data).decode()
    elif inputs_dir is not None:
        path = inputs_dir / f"{case.target}-{case.index}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.data)
        record["input_file"] = str(path)
    record["repro"] = f"python -m fragviz.fuzz --reader {case.target} --seed {case.seed} --case {case.index}"
    return record


def signature(record: dict) -> tuple:
    """What groups failures: reader, kind, exception type and where it was raised (for a
    timeout or memory kill without a place, the kind of input instead)."""
    where = record.get("location") or ""
    if not where and record.get("stderr"):
        where = "stderr: " + _shape(record["stderr"])
    if not where:
        where = "input: " + (record.get("what") or ["?"])[0].split(":")[0]
    exception = record.get("exception") or ""
    if record.get("kind") == "exit":
        exception = f"exit {record.get('exit')}"
    return record["target"], record["kind"], exception, where


def _shape(text: str) -> str:
    """A printed error with its particulars (quoted values, numbers, paths) blanked out."""
    import re
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", line)
    line = re.sub(r"\S*/(\S+)", r"\1", line)
    return re.sub(r"\d+", "N", line)[:90]


def grouped(findings: list[dict]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for record in findings:
        groups[signature(record)].append(record)
    return dict(sorted(groups.items(), key=lambda item: (item[0][0], -len(item[1]))))


def smallest(records: list[dict]) -> dict:
    return min(records, key=lambda r: (r.get("size") or 0, r["index"]))


def signature_table(findings: list[dict]) -> str:
    lines = ["distinct failures (reader, kind, exception, where: count; smallest case):"]
    for (target, kind, exception, where), records in grouped(findings).items():
        example = smallest(records)
        what = "; ".join(example.get("what") or [])
        lines.append(f"  {target} {kind} {exception} at {where}: {len(records)}; #{example['index']} {what[:160]}")
    return "\n".join(lines)


def write_markdown(path, tally: Tally, findings: list[dict], args, elapsed: float) -> None:
    lines = [f"# fragviz fuzz: {sum(r['cases'] for r in tally.rows()):,} cases, seed {args.seed}", "",
             f"{elapsed:,.0f} s with {args.jobs} worker(s); {args.timeout:g} s and {args.memory_mb} MB per case.", "",
             tally.table(markdown=True), "", "## Distinct failures", ""]
    for (target, kind, exception, where), records in grouped(findings).items():
        example = smallest(records)
        lines.append(f"### {target}: {kind} {exception} at `{where}` ({len(records)} cases)")
        lines.append("")
        lines.append(f"- smallest case: `{example.get('repro', '')}` ({example.get('size', 0):,} bytes, "
                     f"file `{example.get('file')}`{', upload' if example.get('upload') else ''})")
        lines.append(f"- input: {'; '.join(example.get('what') or [])}")
        if example.get("argv"):
            lines.append(f"- command: `fragviz {' '.join(example['argv'])}`")
        message = (example.get("message") or example.get("stderr") or "").replace("\n", " ")[:300]
        lines.append(f"- message: `{message}`")
        if example.get("minimal_b64"):
            minimal = base64.b64decode(example["minimal_b64"])
            lines.append(f"- reproducer shrunk to {len(minimal):,} bytes" + (":" if len(minimal) <= 1500 else
                                                                          " (too long to show)"))
            if len(minimal) <= 1500:
                lines += ["", "```", minimal.decode("utf-8", "backslashreplace"), "```"]
        lines.append("")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
