"""Fuzz cases: one mutated (or hostile) file per case, made reproducibly from (seed, target, index).

The first cases of every target go through each hostile whole-file class once (so a short CI
run covers every class of issue 12); the rest are 1-3 random mutations of a seed file. A case
is rebuilt from its three numbers alone: ``make_case(target, seed, index)`` gives the same
bytes on every machine, which is how the runner records a case its worker could not report.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from pathlib import Path

from . import hostile
from .mutate import mutate
from .seeds import seed_files
from .targets import CLI, TARGETS

PREFIX = "fz-"          # the mutated file's name: PREFIX + the seed's name (+ .gz); errors must name it
SPECIAL_SHARE = 0.12    # after the first pass, the share of cases that are a whole hostile file
UPLOAD_SHARE = 0.3      # cases of readers the pages also read from an upload


@dataclass
class Case:
    target: str
    index: int
    seed: int
    kind: str = "file"                  # file, missing, directory or args (cli: a hostile argument)
    seed_file: str = ""
    name: str = ""                      # the mutated file's name: every rejection must name it
    data: bytes = b""
    what: list[str] = field(default_factory=list)
    upload: bool = False
    argv: list[str] | None = None       # cli: the command line; "{case}" = the mutated file, "{x}" = seed x
    expect: str | None = None           # cli args cases: what the error must name (the option)
    names: tuple[str, ...] = ()         # cli: other words an error may name instead (an endpoint)

    @property
    def label(self) -> str:
        return self.expect if self.kind == "args" else self.name

    def describe(self) -> str:
        head = f"{self.target}#{self.index} ({self.kind}{', upload' if self.upload else ''}, from {self.seed_file})"
        cmd = f" argv: {' '.join(self.argv)}" if self.argv else ""
        return f"{head}: {'; '.join(self.what)}{cmd}"

    def materialise(self, folder: Path, seeds: Path):
        """Write the case into ``folder``; returns what the target gets (a path or an upload)
        and, for the cli, the command line with its placeholders filled."""
        from .targets import Upload
        path = folder / self.name
        if self.kind == "directory":
            path.mkdir()
        elif self.kind == "file":
            path.write_bytes(self.data)
        source = Upload(self.data, self.name) if self.upload else str(path)
        argv = None
        if self.argv is not None:
            names = {name: str(seeds / name) for name in seed_files()}
            argv = [_fill(arg, names, str(path)) for arg in self.argv]
        return source, argv


def _fill(arg: str, names: dict[str, str], case: str) -> str:
    if arg == "{case}":
        return case
    if arg.startswith("{") and arg.endswith("}") and arg[1:-1] in names:
        return names[arg[1:-1]]
    return arg


def fmt_of(name: str) -> str:
    return {"csv": "csv", "json": "json", "yaml": "yaml"}.get(name.rsplit(".", 1)[-1], "text")


# -- hostile whole files -----------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def special_classes(target: str, seed_file: str) -> list[tuple[str, str]]:
    """(class, how) of every whole-file class for one seed: ``how`` is generic, gzip, csv,
    format, bomb, missing or directory."""
    seed = seed_files()[seed_file]
    fmt = fmt_of(seed_file)
    classes = [(name, "generic") for name, _ in hostile.generic_files(seed)]
    classes += [(name, "gzip") for name, _, _ in hostile.gzip_files(seed)]
    if fmt == "csv":
        classes += [(name, "csv") for name, _ in hostile.csv_files(seed)]
    classes += [(name, "format") for name, _ in format_files(target, seed_file)]
    classes += [("missing file", "missing"), ("directory", "directory"), ("gzip bomb", "bomb")]
    return classes


def special_case(case: Case, klass: str, how: str) -> None:
    seed = seed_files()[case.seed_file]
    case.what = [f"whole file: {klass}"]
    if how in ("missing", "directory"):
        case.kind, case.upload = how, False
        return
    if how == "bomb":
        case.data, case.name = hostile.gzip_bomb(), case.name + ".gz"
        return
    if how == "gzip":
        _, make, suffix = next(f for f in hostile.gzip_files(seed) if f[0] == klass)
        case.data, case.name = make(), case.name + suffix
        return
    pool = {"generic": hostile.generic_files, "csv": hostile.csv_files}.get(how)
    files = pool(seed) if pool else format_files(case.target, case.seed_file)
    make = dict(files)[klass]
    case.data = make() if callable(make) else make


def format_files(target: str, seed_file: str) -> list[tuple[str, bytes]]:
    """Hostile files specific to a format (from :mod:`fragviz.fuzz.formats`)."""
    from .formats import FORMAT_FILES
    return FORMAT_FILES.get(fmt_of(seed_file), lambda t, s: [])(target, seed_file)


# -- making a case -------------------------------------------------------------------------------

def make_case(target: str, seed: int, index: int) -> Case:
    rng = random.Random(f"{seed}/{target}/{index}")
    if target == CLI:
        from .cli_cases import cli_case
        return cli_case(rng, seed, index)
    spec = TARGETS[target]
    seed_file = spec.seeds[index % len(spec.seeds)] if index < 200 else rng.choice(spec.seeds)
    case = Case(target, index, seed, seed_file=seed_file, name=PREFIX + seed_file)
    case.upload = spec.uploads and rng.random() < UPLOAD_SHARE
    fill_file(case, rng, first_pass=index)
    return case


def fill_file(case: Case, rng: random.Random, first_pass: int | None = None) -> None:
    """Give ``case`` its content: the ``first_pass``-th whole-file class while there are
    classes left, else (and for the cli) a whole-file class or random mutations."""
    classes = special_classes(case.target, case.seed_file)
    if first_pass is not None and first_pass < len(classes):
        special_case(case, *classes[first_pass])
    elif rng.random() < SPECIAL_SHARE:
        special_case(case, *rng.choice(classes))
    else:
        steps = rng.choices([1, 2, 3], [60, 28, 12])[0]
        case.data, case.what = mutate(rng, seed_files()[case.seed_file], fmt_of(case.seed_file), steps)
