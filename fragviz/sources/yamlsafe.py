"""YAML files read with ceilings: the what-if scenario and the PromQL catalog come through here.

:func:`load_yaml` reads a path, bytes or an upload through :mod:`fragviz.sources.raw` (missing
file, directory, gzip, non-UTF-8 named) and parses it with :class:`BoundedLoader`, PyYAML's safe
loader with four ceilings a plain ``yaml.safe_load`` lacks:

- size: at most ``max_yaml_kb`` (PyYAML parses in pure Python, about 0.1 MB/s on a busy machine);
- aliases: at most ``max_yaml_aliases`` alias uses (``*name``), counted as if every alias were
  replaced by what it stands for, so aliases of aliases ("billion laughs", 10^9 values from a
  few hundred bytes) are refused while composing, before anything is expanded; an alias inside
  the very node it names (a document that contains itself) is refused too;
- nesting: at most ``max_json_depth`` levels (the composer is recursive);
- integers: one beyond int64 (or longer than :data:`MAX_INT_CHARS` characters) is not converted
  but kept as :class:`BigInt`, so the field that reads it refuses it by name.
"""

from __future__ import annotations

import yaml

from ..errors import InputError
from ..limits import INT64_MAX, Limits, limits, setting_hint
from . import raw

MAX_INT_CHARS = 70       # 0b + 64 binary digits and a sign; anything longer is beyond int64


class BigInt:
    """A YAML integer beyond int64, left unconverted; fields refuse it naming their key."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        digits = self.text if len(self.text) <= 24 else f"{self.text[:20]}...({len(self.text)} characters)"
        return f"{digits} (beyond 64 bits)"

    def __eq__(self, other) -> bool:
        return isinstance(other, BigInt) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("BigInt", self.text))


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` counting alias uses and nesting while it composes (see the module)."""

    def __init__(self, stream, ceiling: Limits, label: str):
        super().__init__(stream)
        self.ceiling = ceiling
        self.label = label
        self.alias_uses = 0
        self.depth = 0
        self.within: dict[str, int] = {}      # anchor -> expanded alias uses inside its node

    def _refuse(self, message: str, mark) -> InputError:
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return InputError(at + message, file=self.label)

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in self.anchors:
                if event.anchor not in self.within:
                    raise self._refuse(f"the alias *{event.anchor} is inside the node it names (a document that "
                                       "contains itself); expected plain values", event.start_mark)
                self.alias_uses += 1 + self.within[event.anchor]
                if self.alias_uses > self.ceiling.max_yaml_aliases:
                    raise self._refuse(
                        f"aliases (*name) stand for more than {self.ceiling.max_yaml_aliases} uses of anchored "
                        f"values once expanded; expected plain values ({setting_hint('max_yaml_aliases')})",
                        event.start_mark)
            return super().compose_node(parent, index)
        event = self.peek_event()
        self.depth += 1
        if self.depth > self.ceiling.max_json_depth:
            raise self._refuse(f"nested deeper than {self.ceiling.max_json_depth} levels "
                               f"({setting_hint('max_json_depth')})", event.start_mark)
        before = self.alias_uses
        node = super().compose_node(parent, index)
        self.depth -= 1
        if event.anchor is not None:
            self.within[event.anchor] = self.alias_uses - before
        return node

    def compose_document(self):
        self.within = {}
        return super().compose_document()

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        if len(text) > MAX_INT_CHARS:
            return BigInt(text)
        value = super().construct_yaml_int(node)
        return value if -INT64_MAX - 1 <= value <= INT64_MAX else BigInt(text)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:   # 2026-13-45 matches YAML's pattern but is no date
            raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not a valid date ({exc})",
                                                    node.start_mark) from None


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", BoundedLoader.construct_yaml_timestamp)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """``at line L, column C: problem`` of a PyYAML error, on one line."""
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"invalid YAML{at}: {problem}"


def parse_yaml(text: str, label: str, *, ceiling: Limits | None = None):
    """The one document in ``text``, within the ceilings; an InputError naming ``label`` otherwise."""
    ceiling = ceiling or limits()
    cap = ceiling.max_yaml_kb * 1024
    if len(text) > cap:
        raise InputError(f"larger than the {ceiling.max_yaml_kb} KB limit for a YAML file; "
                         f"{setting_hint('max_yaml_kb')}", file=label)
    loader = None
    try:
        loader = BoundedLoader(text, ceiling, label)     # may already refuse a character (NUL, ESC)
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise InputError(yaml_problem(exc), file=label) from None
    except RecursionError:      # not reachable within max_json_depth; kept as a named refusal
        raise InputError("YAML nested too deeply", file=label) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml_text(source, label: str, *, ceiling: Limits) -> str:
    """The text of a YAML file (path, bytes or an upload) read through :mod:`raw`, refused past
    ``max_yaml_kb`` while reading or decompressing (a gzip bomb stops at the ceiling)."""
    try:
        data = raw.read_bytes(source, label, ceiling=ceiling, max_bytes=ceiling.max_yaml_kb * 1024)
    except InputError as exc:
        if exc.message.startswith(("larger than", "decompresses to more than")):
            unpacked = " once decompressed" if exc.message.startswith("decompresses") else ""
            raise InputError(f"larger than the {ceiling.max_yaml_kb} KB limit for a YAML file{unpacked}; "
                             f"{setting_hint('max_yaml_kb')}", file=label) from None
        raise
    return raw.decode_text(data, label)


def load_yaml(source, label: str | None = None, *, ceiling: Limits | None = None):
    """YAML from a path, bytes or an upload: :func:`read_yaml_text` then :func:`parse_yaml`."""
    label = label or raw.label_of(source)
    ceiling = ceiling or limits()
    return parse_yaml(read_yaml_text(source, label, ceiling=ceiling), label, ceiling=ceiling)
