"""How deep JSON nests, measured without parsing it: untrusted JSON is bounded before it is parsed.

Python's ``json`` recurses once per ``[`` or ``{``; 30,000 nested brackets raise
``RecursionError`` (and cost the whole stack) before any check of the decoded value can run.
:func:`loads_bounded` first walks the bytes once, counting brackets outside strings, and refuses
a document deeper than its limit with a ``ValueError`` like any other malformed JSON.
"""

from __future__ import annotations

import json

# Deeper than any document of the protocol (a batch header nests 2 levels, a receipt 1).
MAX_DEPTH = 64


class TooDeep(ValueError):
    """The JSON nests deeper than allowed (it was not parsed)."""


def depth(data: bytes | str) -> int:
    """The deepest nesting of arrays and objects in ``data`` (JSON text; strings skipped)."""
    text = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    deepest = level = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            level += 1
            deepest = max(deepest, level)
        elif byte in (0x5D, 0x7D):  # ] }
            level -= 1
    return deepest


def loads_bounded(data: bytes | str, max_depth: int = MAX_DEPTH) -> object:
    """``json.loads(data)``, refusing JSON nested deeper than ``max_depth`` before parsing it.

    Raises ``ValueError`` (:class:`TooDeep` for the nesting) for anything that is not JSON.
    """
    if depth(data) > max_depth:
        raise TooDeep(f"the JSON nests deeper than {max_depth} levels")
    return json.loads(data)
