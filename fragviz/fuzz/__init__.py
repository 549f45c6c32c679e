"""Mutation fuzzing of every reader and of the command line (issue 12, point 7).

    python -m fragviz.fuzz --cases 10000 --jobs 2 --out findings.jsonl

seeds.py      valid seed files written by fragviz itself from a small demo cluster
hostile.py    the dictionary of hostile values and whole files (huge numbers, times out of range,
              encodings, deep nesting, alias bombs, gzip bombs, ...)
formats.py    hostile whole files per format (JSON, series CSV, scenario and catalog YAML)
mutate.py     byte, line, encoding, CSV-cell and JSON/YAML-tree mutators
cases.py      one case = one mutated file, rebuilt from (seed, target, index)
cli_cases.py  cases of the command line: a mutated file or a hostile option value
targets.py    the ten readers as callables on one file, through the path the CLI and pages use
outcome.py    accepted / clean rejection naming the file / other (error, unnamed, timeout, memory...)
worker.py     the subprocess that runs cases under a memory ceiling
runner.py     the pool of workers: per-case time limit, kills and restarts
report.py     counts per reader, findings records, failure signatures
minimize.py   shrinking a failing case to a small reproducer
"""
