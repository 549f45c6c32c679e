"""The command line's one error boundary, shared by ``fragviz`` and ``python -m fragviz.bench``.

:func:`run` calls a command and turns whatever ends it into an exit code and, on failure, one
line on stderr, never a traceback:

====  ==========================================================================================
0     done (also when the output pipe was closed early, as by ``| head``)
2     bad input or options: a FragvizError (the file, row and field named), a file that cannot
      be read, or an unexpected internal error (its traceback goes to the log, see
      :mod:`fragviz.crashlog`, or to stderr with ``--debug``)
3     a live source cannot be reached or answered wrongly (SourceError)
4     an output file cannot be written (WriteError)
130   interrupted (Ctrl-C)
143   terminated (SIGTERM): raised as :class:`Terminated`, so temporary files are removed
====  ==========================================================================================

``--verbose`` prints every problem of a bad file, ``--problems-file PATH`` writes them there.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading

from .. import crashlog
from ..errors import FragvizError, one_line, printable

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 128 + signal.SIGTERM


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (exit 2), like every other error here;
    ``--help`` still prints the whole usage. Subcommand parsers inherit the class."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {printable(message)} (see {self.prog} --help)\n")


class Terminated(BaseException):
    """SIGTERM arrived. A BaseException like KeyboardInterrupt, so ``except Exception`` blocks do
    not swallow it and ``finally`` blocks (temporary files) run on the way out."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) arrived. A KeyboardInterrupt for every ``except KeyboardInterrupt``; its
    own class because ``python -m`` treats a bare KeyboardInterrupt seen on the way out as
    unhandled and kills itself with SIGINT (exit -2) instead of exiting 130."""


@contextlib.contextmanager
def signals_raise():
    """Within this block SIGTERM raises :class:`Terminated` and SIGINT :class:`Interrupted`, once
    each (a repeat while the first unwinds is ignored, so the clean-up finishes). Only the main
    thread can set handlers; a SIGINT that the process ignores (nohup, ``&``) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated(signum)

    def on_int(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise Interrupted()
    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, on_term)}
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, on_int)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def add_options(parser: argparse.ArgumentParser, commands: argparse._SubParsersAction | None = None) -> None:
    """``--verbose``, ``--debug`` and ``--problems-file`` on ``parser`` and on each of its
    subcommands (so they work before or after the command's name)."""
    targets = [(parser, False, None)]
    if commands is not None:
        targets += [(sub, argparse.SUPPRESS, argparse.SUPPRESS) for sub in dict.fromkeys(commands.choices.values())]
    for target, flag, value in targets:
        group = target.add_argument_group("errors")
        group.add_argument("--verbose", action="store_true", default=flag,
                           help="on bad input, print every problem (not only the first)")
        group.add_argument("--debug", action="store_true", default=flag,
                           help="print the traceback of an unexpected error instead of logging it")
        group.add_argument("--problems-file", metavar="PATH", default=value,
                           help="on bad input, write every problem to this file")


def run(action: str, call, *, prog: str = "fragviz", verbose: bool = False, debug: bool = False,
        problems_file: str | None = None) -> int:
    """``call()``'s exit code, or the code and one line for what ended it (see the module
    docstring). ``action`` says what was being done, e.g. "running 'fragviz report'"."""
    try:
        with signals_raise():
            return call()
    except FragvizError as exc:
        if debug:
            print(crashlog.traceback_text(exc), file=sys.stderr, end="")
        return _failed(exc, prog, verbose, problems_file)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"{prog}: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:                   # output piped into `head` and closed early: not an error
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        if exc.filename is None:
            return _internal(exc, action, prog, debug)
        if debug:
            print(crashlog.traceback_text(exc), file=sys.stderr, end="")
        reason = (exc.strerror or type(exc).__name__).lower()
        print(f"{prog}: error: {one_line(str(exc.filename))}: {reason}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 — the boundary: anything unexpected becomes one line
        return _internal(exc, action, prog, debug)


def _failed(exc: FragvizError, prog: str, verbose: bool, problems_file: str | None) -> int:
    note = ""
    if problems_file:
        from ..report.write import write_atomic
        try:
            write_atomic(problems_file, "\n".join(exc.details()) + "\n")
            note = f" (all {exc.count} in {problems_file})" if exc.count > 1 else ""
        except OSError as write_error:
            note = f" (could not write {problems_file}: {write_error.strerror or write_error})"
    elif exc.count > 1 and not verbose:
        note = f" (--verbose lists all {exc.count})"
    if verbose:
        lines = exc.details()
        print(f"{prog}: error: {lines[0]}{note}", file=sys.stderr)
        for line in lines[1:]:
            print(line, file=sys.stderr)
    else:
        print(f"{prog}: error: {exc.one_line()}{note}", file=sys.stderr)
    return exc.exit_code


def _internal(exc: BaseException, action: str, prog: str, debug: bool) -> int:
    what = type(exc).__name__
    text = one_line(str(exc), 300)
    summary = f"{what}: {text}" if text else what
    if debug:
        print(crashlog.traceback_text(exc), file=sys.stderr, end="")
        where = "traceback above"
    else:
        path = crashlog.record(action, exc)
        where = (f"traceback in {printable(str(path))}; run with --debug to print it" if path is not None
                 else "the log could not be written; run with --debug to print the traceback")
    print(f"{prog}: internal error while {action}: {summary} ({where})", file=sys.stderr)
    return 2
