"""The dictionary of hostile values: what a careless or hostile user puts in a cell, a JSON or
YAML value, or a whole file. The classes follow issue 12 (huge and out-of-range numbers, times
outside pandas' range, encodings, control characters, deep nesting, alias bombs, ...).

Scalars are text (a CSV cell, a JSON string, a YAML scalar); ``JSON_TOKENS`` are raw JSON
text put where a value goes (numbers Python's json module would never write); ``YAML_SNIPPETS``
raw YAML put where a value goes. Whole files are made by :func:`whole_files` per format.
"""

from __future__ import annotations

import functools
import gzip

NUMBERS = [
    "1e1000000", "1e999999", "1e400", "-1e400", "1e308", "-1e308", "1.7976931348623157e308", "1e309",
    str(10**19), str(-10**19), str(2**63), str(2**63 - 1), str(-2**63), str(2**64), "9" * 400, "-" + "9" * 400,
    "9" * 5000, "1e18", "1e20", "1e30", "1E+30", "1e-400", "0.0000001", "1.5", "0.5", "-1", "-0", "0", "00",
    "inf", "-inf", "Infinity", "+Infinity", "NaN", "nan", "-nan", "0x10", "1_000", "1e", ".", "+", "-", "1.5.5",
    "--1", "1,5", "1 000", " 7 ", "٣", "٣٢", "١e٣", "１２", "²", "Ⅻ", "3\u200b", "7\x00",
    "true", "false", "null", "None", "N/A", "", " ",
]
QUANTITIES = [
    "1e1000000", "1e999999", "1e400", "1e308", "1e18", "1e19", "9Ei", "8Ei", "1Ei", "16Gi", "500m", "0.001m",
    "1n", "1e-9", "1e-30", "1e3", "1E30", "1e30Ki", "99999999999999999999Ki", "9" * 400 + "m", "9" * 400 + "Ei",
    "1.5Gi", "-1", "-1Gi", "1Qi", "1gi", "1GB", "16 Gi", "٣٢Gi", "1e+03", "1e-3k", ".5", "5.", "+1", "1e3e3",
    "0.000000001m", "1" + "0" * 40, "1e2147483648", "1e-2147483648",
]
TIMES = [
    "9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "1677-09-21T00:00:00Z", "1677-09-22T00:12:43Z",
    "2262-04-11T23:47:16Z", "2262-04-12T00:00:00Z", "2200-01-01T00:00:01Z", "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T25:00:00Z", "2026-01-01", "2026-01-01T00:00:00+14:00",
    "2026-01-01T00:00:00-23:59", "2026-01-01T00:00:00.123456789123Z", "2026-W01-1", "yesterday", "now", "today",
    "1e10", "1e11", "1e20", "-1e20", "inf", "-inf", "nan", "10000000000", "99999999999", "-62135596800",
    "1767315600.5", "-1", "0", "9" * 400, "1e400", "2026-01-01T00:00:00Z\x00", "٢٠٢٦-01-01",
]
TEXT = [
    "\x1b[31mred\x1b[0m", "a\rb", "a\nb", "\x00", "\x7f", "\u202eevil", "\u200b", "\ufeff", "\ufeffname", "a,b", '"',
    "'", "a\"b", "\\", "=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "a" * 100000, " name ", "name ", "名前", "κόμβος",
    "${cluster}", "${nope}", "$$", "${", "{{x}}", "|", "A100|", "||", "|A100", "*", ".*", "(", "[", "%s%n", "%(x)s",
    "../../etc/passwd", "/dev/zero", "C:\\nul", "CON", "-", "--help", "true", "null", "~", "", " ", "\t",
    "\udcff", "é", "ÿ",
]
ALL_SCALARS = NUMBERS + QUANTITIES + TIMES + TEXT

DEEP = 100_000
JSON_TOKENS = [
    "1e1000000", "1e400", "-1e400", "1e308", "1.7976931348623157e308", "NaN", "Infinity", "-Infinity",
    str(10**19), str(-10**19), str(2**63), "9" * 400, "9" * 5000, "1.0e-400", "-0", "0.1e1", "true", "false", "null",
    "[]", "{}", "\"\"", "[null]", "[[]]", "{\"\": {}}", "\"\\ud800\"", "\"\\u0000\"", "\"\\u001b[31m\"",
    "[" * DEEP + "]" * DEEP, "{\"a\":" * DEEP + "1" + "}" * DEEP, "[" * 1000 + "]" * 1000,
    "{\"kind\": \"Pod\", \"kind\": \"Node\"}", "{\"a\": 1, \"a\": {\"b\": 2}}",
]
_BOMB_LEVELS = 9
YAML_SNIPPETS = [
    "1e1000000", "1e400", ".inf", "-.inf", ".nan", "0x1F", "0o17", "1_000", "~", "null", "2026-01-01",
    "2026-01-01 00:00:00", "9999-12-31T00:00:00Z", "!!binary aGVsbG8=", "!!set {a, b}", "!!float inf",
    "!!int " + "9" * 400, "9" * 400, str(10**19), "!!python/object/apply:os.system [\"true\"]",
    "!!python/name:os.system", "!!str", "*undefined", "&a [1, *a]", "[" * 1000 + "]" * 1000,
    "[" * DEEP + "]" * DEEP, "{a: {b: {c: {d: []}}}}", "[a, b, c]", "{}", "[]", "yes", "no", "on", "off", "'\x1b'",
    "\"\\x1b[31m\\r\"", "\"\\ud800\"", "\"\\0\"", "? [a, b]", "!!omap [a: 1]", "<<: {x: 1}", "|\n  block",
    ">-\n  folded",
]


def alias_bomb(levels: int = _BOMB_LEVELS, width: int = 10, leaf: str = "lol") -> str:
    """A flow YAML value whose aliases expand to ``width ** levels`` leaves (a billion laughs)."""
    parts = [f"&b0 [{', '.join([leaf] * width)}]"]
    for level in range(1, levels):
        parts.append(f"&b{level} [{', '.join([f'*b{level - 1}'] * width)}]")
    return "[" + ", ".join(parts) + f", *b{levels - 1}]"


def text_bytes(text: str) -> bytes:
    """UTF-8 bytes of ``text``; a lone surrogate becomes its (invalid) three-byte form."""
    return text.encode("utf-8", "surrogatepass")


# -- whole files --------------------------------------------------------------------------------

def generic_files(seed: bytes) -> list[tuple[str, object]]:
    """(class, make) of hostile whole files that fit any format; ``make()`` gives the bytes."""
    def text():
        return seed.decode("utf-8")
    half = len(seed) // 2
    return [
        ("empty file", lambda: b""), ("BOM only", lambda: b"\xef\xbb\xbf"), ("BOMs only", lambda: b"\xef\xbb\xbf" * 5),
        ("BOM and newline", lambda: b"\xef\xbb\xbf\n"), ("newlines only", lambda: b"\n\n\n"),
        ("whitespace only", lambda: b"  \t \r\n "), ("NUL bytes", lambda: b"\x00" * 64),
        ("binary", lambda: bytes(range(256)) * 4),
        ("UTF-16 with BOM", lambda: text().encode("utf-16")), ("UTF-16 without BOM", lambda: text().encode("utf-16-le")),
        ("UTF-32", lambda: text().encode("utf-32")), ("Latin-1 byte", lambda: seed[:half] + b"\xe9" + seed[half:]),
        ("cp1252 quote", lambda: b"\x93" + seed), ("double BOM", lambda: b"\xef\xbb\xbf\xef\xbb\xbf" + seed),
        ("CR line ends", lambda: seed.replace(b"\n", b"\r")), ("CRLF line ends", lambda: seed.replace(b"\n", b"\r\n")),
        ("first half", lambda: seed[:half]), ("huge line", lambda: b"a" * (2 << 20)),
        ("control characters", lambda: seed.replace(b"a", b"\x1b", 3)),
        ("NUL inside", lambda: seed.replace(b"\n", b"\x00\n", 2)),
        ("seed twice", lambda: seed + seed), ("seed repeated to 2 MB", lambda: seed * max(1, (2 << 20) // max(len(seed), 1))),
    ]


def gzip_files(seed: bytes) -> list[tuple[str, object, str]]:
    """(class, make, suffix) of gzip-related hostile files; the suffix is added to the name."""
    def packed():
        return gzip.compress(seed, mtime=0)
    return [
        ("gzip of the seed", packed, ".gz"), ("not gzip but .gz", lambda: seed, ".gz"),
        ("truncated gzip", lambda: packed()[:-9], ".gz"), ("gzip without .gz", packed, ""),
        ("gzip magic only", lambda: b"\x1f\x8b", ""), ("corrupt gzip", lambda: packed()[:20] + b"\x00" * 40, ".gz"),
        ("gzip of gzip", lambda: gzip.compress(packed(), mtime=0), ".gz"),
        ("gzip of BOM only", lambda: gzip.compress(b"\xef\xbb\xbf", mtime=0), ".gz"),
    ]


@functools.lru_cache(maxsize=1)
def gzip_bomb(megabytes: int = 1100) -> bytes:
    """A ~1 MB gzip file of zeros decompressing to ``megabytes`` MB (over the 1 GB default file
    limit): one gzip member of 1 MB of zeros, repeated (a gzip file may hold several members)."""
    return gzip.compress(b"\x00" * (1 << 20), compresslevel=9, mtime=0) * megabytes


def csv_files(seed: bytes) -> list[tuple[str, object]]:
    """(class, make) of hostile CSV files built from a seed CSV."""
    lines = seed.decode("utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    columns = header.split(",")
    last = columns[-1]

    def join(head, body) -> bytes:
        return "\n".join([head] + list(body)).encode() + b"\n"
    return [
        ("header only", lambda: (header + "\n").encode()),
        ("duplicate column after trimming", lambda: join(header + f", {last}", (r + ",x" for r in rows))),
        ("duplicate column", lambda: join(header + f",{columns[0]}", (r + ",x" for r in rows))),
        ("column names with spaces and case", lambda: join(",".join(f"  {c.upper()} " for c in columns), rows)),
        ("BOM inside the header", lambda: join("\ufeff" + header.replace(",", ",\ufeff", 1), rows)),
        ("extra field in every row", lambda: join(header, (r + ",extra,more" for r in rows))),
        ("missing fields", lambda: join(header, (r.rsplit(",", 2)[0] for r in rows))),
        ("semicolons", lambda: join(header.replace(",", ";"), (r.replace(",", ";") for r in rows))),
        ("tabs", lambda: join(header.replace(",", "\t"), (r.replace(",", "\t") for r in rows))),
        ("unbalanced quote", lambda: join(header, ['"' + rows[0]] + rows[1:])),
        ("quoted newlines", lambda: join(header, ('"' + r.replace(",", '\n",', 1) for r in rows))),
        ("20000 rows", lambda: join(header, (rows * (20_000 // max(len(rows), 1) + 1))[:20_000])),
        ("rows without header", lambda: join(rows[0], rows[1:])),
        ("empty column names", lambda: join(",".join("" for _ in columns), rows)),
        ("2000 columns", lambda: join(header + "".join(f",c{i}" for i in range(2000)), rows)),
    ]
