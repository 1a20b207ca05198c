"""How deep JSON nests and how many values it holds, measured without parsing it.

Python's ``json`` recurses once per ``[`` or ``{``; 30,000 nested brackets raise
``RecursionError`` (and cost the whole stack) before any check of the decoded value can run,
and it builds every value it reads. So untrusted JSON (a batch's body lines at HQ, an envelope
header or a receipt from a USB stick) is measured first: strings are blanked out, then the
brackets left give the nesting depth, and brackets, commas and colons an upper bound of the
values and keys. For valid JSON both are exact bounds; invalid JSON is refused when parsed.
"""

from __future__ import annotations

import json
import re

# Deeper than any document of the protocol (a batch header nests 2 levels, a receipt 1).
MAX_DEPTH = 64

# A JSON string (with its escapes) in raw bytes: what the measurement blanks out.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class TooDeep(ValueError):
    """The JSON nests deeper than allowed (it was not parsed)."""


def shape(data: bytes, max_depth: int = MAX_DEPTH) -> tuple[int, int]:
    """``(depth, values)`` of JSON text ``data``, from its bytes, without parsing it.

    ``values`` bounds the values and keys from above. ``depth`` is exact when it is over
    ``max_depth``; at or under it, it may be the count of opening brackets (an upper bound that
    is enough to say the text is within the limit, and costs no walk).
    """
    bare = _JSON_STRING.sub(b'""', data) if b'"' in data else data
    opens = bare.count(b"[") + bare.count(b"{")
    values = opens + bare.count(b",") + bare.count(b":") + 1
    if opens <= max_depth:
        return opens, values
    level = deepest = 0
    for bracket in _BRACKETS.findall(bare):
        level += 1 if bracket in (b"[", b"{") else -1
        deepest = max(deepest, level)
    return deepest, values


def loads_bounded(data: bytes | str, max_depth: int = MAX_DEPTH) -> object:
    """``json.loads(data)``, refusing JSON nested deeper than ``max_depth`` before parsing it.

    Raises ``ValueError`` (:class:`TooDeep` for the nesting) for anything that is not JSON.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if shape(raw, max_depth)[0] > max_depth:
        raise TooDeep(f"the JSON nests deeper than {max_depth} levels")
    return json.loads(data)
