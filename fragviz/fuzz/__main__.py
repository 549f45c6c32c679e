"""``python -m fragviz.fuzz``: mutation-fuzz every reader and the command line, print the counts.

    python -m fragviz.fuzz --cases 10000 --jobs 2 --out findings.jsonl
    python -m fragviz.fuzz --reader series --reader cli --cases 500 --seed 3
    python -m fragviz.fuzz --reader scenario --case 41          # one case again, with its traceback

Per reader it prints the cases, how many were accepted, cleanly rejected (a FragvizError naming
the file) and other (every other outcome, with the timeouts and memory among them), the slowest
case and the highest peak memory. Every "other" case goes to ``--out`` (JSON lines: the input as
base64, the exception, its message and traceback tail), so it can be reproduced. Exit status: 0
when there is no "other" outcome, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .report import Tally, finding, signature_table, write_markdown
from .runner import Runner
from .targets import ALL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fragviz.fuzz", description=(
        "Mutation-fuzz fragviz's readers and command line: every case must end accepted or as a "
        "clean rejection naming the file, within the time limit and the memory ceiling."))
    parser.add_argument("--cases", type=int, default=500, help="cases per reader (default 500)")
    parser.add_argument("--reader", action="append", choices=ALL, metavar="NAME",
                        help=f"a reader to fuzz (repeatable; default all): {', '.join(ALL)}")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed: the same seed, the same cases (default 0)")
    parser.add_argument("--start", type=int, default=0, help="the first case index (default 0)")
    parser.add_argument("--case", type=int, metavar="INDEX", help="run only this case (of each --reader) and print it")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per case (default 10)")
    parser.add_argument("--memory-mb", type=int, default=1024, help="memory a case may add, in MB (default 1024)")
    parser.add_argument("--out", metavar="JSONL", help="write every 'other' case here")
    parser.add_argument("--results", metavar="JSONL", help="write every case's result here (for timing studies)")
    parser.add_argument("--markdown", metavar="MD", help="write the counts and the distinct failures here")
    parser.add_argument("--minimize", action="store_true",
                        help="shrink the smallest case of each distinct failure to a small reproducer (--markdown shows it)")
    parser.add_argument("--summarize", action="store_true",
                        help="run nothing: print (and --markdown, --minimize) the run whose --results and --out are given")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    readers = args.reader or list(ALL)
    if args.summarize:
        if not (args.results and args.out):
            raise SystemExit("--summarize needs --results and --out (the files of an earlier run)")
        tally, findings, facts = _read_back(args.results, args.out, readers)
    else:
        tally, findings, facts = _run(args, readers)
    print(tally.table())
    print(f"\n{facts['cases']:,} cases in {facts['elapsed']:,.0f} s with {args.jobs} worker(s) "
          f"({facts['restarts']} worker restart(s)); limits: {args.timeout:g} s and {args.memory_mb} MB per case; "
          f"seed {args.seed}")
    if facts.get("baseline"):
        print(f"worker baseline: {facts['baseline'].get('rss_mb', 0):.0f} MB resident, "
              f"{facts['baseline'].get('vm_mb', 0):.0f} MB virtual")
    if findings:
        print("\n" + signature_table(findings), flush=True)
    if args.minimize and findings:
        with Runner(jobs=1, timeout=args.timeout, memory_mb=args.memory_mb) as runner:
            _minimize(runner, findings, args.quiet)
    if args.markdown:
        write_markdown(args.markdown, tally, findings, args, facts["elapsed"])
    return 1 if tally.other_total() else 0


def _run(args, readers: list[str]) -> tuple[Tally, list[dict], dict]:
    """Run the cases; write --out and --results as they finish."""
    indices = [args.case] if args.case is not None else list(range(args.start, args.start + args.cases))
    requests = [{"op": "case", "target": reader, "seed": args.seed, "index": index}
                for index in indices for reader in readers]
    tally, findings = Tally(readers), []
    out = open(args.out, "w", encoding="utf-8") if args.out else None  # noqa: SIM115 - closed below
    every = open(args.results, "w", encoding="utf-8") if args.results else None  # noqa: SIM115 - closed below
    inputs_dir = Path(args.out + ".inputs") if args.out else None
    started = time.monotonic()
    try:
        with Runner(jobs=args.jobs, timeout=args.timeout, memory_mb=args.memory_mb) as runner:
            for done, result in enumerate(runner.run(requests), start=1):
                tally.add(result)
                if every:
                    every.write(json.dumps({k: v for k, v in result.items() if k not in ("tail", "stderr")}) + "\n")
                if result["kind"] not in ("accepted", "clean"):
                    record = finding(result, inputs_dir)
                    if out:
                        out.write(json.dumps(record) + "\n")
                        out.flush()
                    record.pop("input_b64", None)           # rebuilt from (seed, target, index) when needed
                    findings.append(record)
                if args.case is not None:
                    _show(result)
                elif not args.quiet and (done % 50 == 0 or done == len(requests)):
                    print(f"\r{done:,}/{len(requests):,} cases, {tally.other_total():,} other, "
                          f"{time.monotonic() - started:,.0f} s", end="", file=sys.stderr, flush=True)
            facts = {"restarts": runner.restarts, "baseline": runner.baselines[0] if runner.baselines else None}
    finally:
        for handle in (out, every):
            if handle:
                handle.close()
    if not args.quiet and args.case is None:
        print(file=sys.stderr)
    return tally, findings, {**facts, "cases": len(requests), "elapsed": time.monotonic() - started}


def _read_back(results: str, out: str, readers: list[str]) -> tuple[Tally, list[dict], dict]:
    """The tally and findings of an earlier run, from its --results and --out files."""
    tally = Tally(readers)
    cases = 0
    with open(results, encoding="utf-8") as handle:
        for line in handle:
            result = json.loads(line)
            if result["target"] in readers:
                tally.add(result)
                cases += 1
    with open(out, encoding="utf-8") as handle:
        findings = [record for record in map(json.loads, handle) if record["target"] in readers]
    for record in findings:
        record.pop("input_b64", None)
    return tally, findings, {"cases": cases, "elapsed": 0.0, "restarts": 0}


def _minimize(runner, findings: list[dict], quiet: bool) -> None:
    """Shrink the smallest case of every distinct failure; the reproducer goes into its record."""
    import base64

    from .minimize import minimize
    from .report import grouped, smallest
    groups = grouped(findings)
    for number, records in enumerate(groups.values(), start=1):
        record = smallest(records)
        if not quiet:
            print(f"\rminimizing {number}/{len(groups)}", end="", file=sys.stderr, flush=True)
        smaller = minimize(runner, record)
        if smaller is not None:
            record["minimal_b64"] = base64.b64encode(smaller).decode()
            record["minimal_size"] = len(smaller)
    if not quiet:
        print(file=sys.stderr)


def _show(result: dict) -> None:
    from .cases import make_case
    case = make_case(result["target"], result["seed"], result["index"])
    print(f"{case.describe()}\n  outcome: {result['kind']} in {result.get('seconds', 0):.2f} s, "
          f"peak {result.get('peak_mb', 0):.0f} MB")
    for key in ("exception", "location", "message", "exit", "stderr", "tail"):
        if result.get(key) not in (None, ""):
            print(f"  {key}: {result[key]}")


if __name__ == "__main__":
    sys.exit(main())
