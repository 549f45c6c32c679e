"""What-if scenarios as compact text for a link: the YAML of :mod:`fragviz.planning.scenario`,
compressed (zlib) and written in URL-safe base64 without padding, so that a page URL can carry the
scenario being edited (``?scenario=...``) and the saved ones (``?saved=...``).

Reading a token is the one validation path of a scenario file (``Scenario.from_dict``) behind
ceilings of its own: the token's length, the base64 alphabet and the size of the decompressed text
(a small token cannot expand into a huge one). Every problem raises :class:`ScenarioError` naming
where the token came from; nothing is kept from a bad token.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from urllib.parse import parse_qs, urlsplit

import yaml

from .scenario import Scenario
from .scenario_fields import ScenarioError, _shown

MAX_TOKEN = 64_000            # characters of one token (a link stays well within what browsers accept)
MAX_TEXT = 1_000_000          # bytes of the YAML a token may expand to
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def _pack(text: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii").rstrip("=")


def _unpack(token, where: str) -> str:
    if not isinstance(token, str):
        raise ScenarioError(f"expected text, got {_shown(token)}", file=where)
    token = token.strip()
    if not token:
        raise ScenarioError("is empty; expected a scenario written by fragviz's Copy link", file=where)
    if len(token) > MAX_TOKEN:
        raise ScenarioError(f"is {len(token):,} characters long, more than {MAX_TOKEN:,}; share the scenario as a "
                            "YAML file instead", file=where)
    if not _ALPHABET.fullmatch(token):
        bad = next(c for c in token if not _ALPHABET.fullmatch(c))
        raise ScenarioError(f"contains {bad!r}; expected the letters, digits, '-' and '_' of a fragviz link "
                            "(was the link cut or changed?)", file=where)
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflate = zlib.decompressobj()
        data = inflate.decompress(packed, MAX_TEXT)
        if inflate.unconsumed_tail:
            raise ScenarioError(f"expands to more than {MAX_TEXT:,} bytes; expected a scenario", file=where)
        if not inflate.eof:
            raise zlib.error("incomplete")
    except (binascii.Error, zlib.error, ValueError):
        raise ScenarioError("is not a scenario written by fragviz's Copy link (it does not decode; was the link cut "
                            "or changed?)", file=where) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("does not decode to UTF-8 text; expected a scenario", file=where) from None


def encode(scenario: Scenario) -> str:
    """``scenario`` as a token for a link."""
    return _pack(scenario.to_yaml())


def decode(token, where: str = "link parameter 'scenario'") -> Scenario:
    """The scenario of a token written by :func:`encode`, checked field by field."""
    return Scenario.from_yaml(_unpack(token, where), file=where)


def encode_many(scenarios) -> str:
    """Several scenarios (the saved ones) as one token."""
    return _pack(yaml.safe_dump([s.to_dict() for s in scenarios], sort_keys=False, default_flow_style=None,
                                allow_unicode=True, width=1000))


def decode_many(token, where: str = "link parameter 'saved'") -> list[Scenario]:
    """The scenarios of a token written by :func:`encode_many`, each checked; one bad scenario
    rejects the token whole."""
    text = _unpack(token, where)
    try:
        items = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ScenarioError("is not a list of scenarios", file=where) from None
    if not isinstance(items, list):
        raise ScenarioError(f"expected a list of scenarios, got {_shown(items)}", file=where)
    return [Scenario.from_dict(item, f"{where}, scenario {i}") for i, item in enumerate(items, start=1)]


def token_of(link: str) -> str:
    """The ``scenario`` token of a pasted link (``http://host/whatif?scenario=...``), or the text
    itself when it is a bare token."""
    text = (link or "").strip()
    if "?" in text or text.startswith(("http://", "https://")):
        values = parse_qs(urlsplit(text).query).get("scenario")
        if not values:
            raise ScenarioError("has no 'scenario=' part; expected a link copied from the What-if page",
                                file="the pasted link")
        return values[-1]
    return text
