"""Redacting a trace: the program's data replaced by short salted hashes.

Shared by ``tracer`` (``--redact``, ``tracer.record(..., redact=True)``) and
``analyze redact`` (an existing trace), so that both redact the same fields
the same way.  Standard library only, like ``synctrace.schema``.

What is data, and so hashed: the ``value`` of container lines (the repr of
what the program put in), exception messages (``exc_msg``), a log line's
``message`` and the values of its ``fields``, and in ``trace.start`` the
``host`` and every ``argv`` element (paths and arguments name users and
inputs).  What is code, and so kept: names of threads, objects and
exception types, call sites (``file.py:LINE``), event names, counts and
times.  The analysis needs only the code and the equality of values, which
hashing keeps: equal values give equal tokens within one trace.

The salt is random per trace and written nowhere: tokens cannot be looked
up in a table of hashed guesses (a common word, a host name), nor matched
between two traces.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from typing import Any, Final

#: Fields of event lines whose string values are the program's data.
TEXT_FIELDS: Final = ("value", "exc_msg", "message")
#: A log line's key-value pairs: the keys are code, the values data.
MAPPING_FIELDS: Final = ("fields",)
#: trace.start fields that describe the machine and the command line.
START_FIELDS: Final = ("host", "argv")

#: Every token starts with this, so a reader sees at once that it is one.
PREFIX: Final = "h:"
#: Hex digits of a token: 48 bits, so that two different values of one
#: trace share a token only past some ten million distinct values.
DIGITS: Final = 12

_PREFIX_BYTES: Final = PREFIX.encode()

#: A trace.end ``detail`` kept as it is: a name (an exception type, a
#: signal), which is code; anything else may quote the program.
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


class Redactor:
    """Replaces a trace's data by tokens, one random salt for the whole trace."""

    def __init__(self, salt: bytes | None = None) -> None:
        #: Never written anywhere: without it tokens cannot be recomputed.
        self._salt = salt if salt is not None else secrets.token_bytes(16)

    def token(self, text: str) -> str:
        """A value's token, e.g. ``h:3f9a2c1b4d5e``: the same text, the same token."""
        return self.token_of_bytes(text.encode("utf-8", "surrogatepass")).decode()

    def token_of_bytes(self, data: bytes) -> bytes:
        """The token of some bytes (an encoded value, as a writer holds it)."""
        digest = hmac.digest(self._salt, data, "sha256")
        return _PREFIX_BYTES + digest.hex()[:DIGITS].encode()

    def line(self, line: dict[str, Any]) -> dict[str, Any]:
        """``line`` with its data fields replaced (in place), returned for convenience.

        A trace.start line also gets ``"redacted": true``.
        """
        for name in TEXT_FIELDS:
            value = line.get(name)
            if isinstance(value, str):
                line[name] = self.token(value)
        self.mappings(line)
        event = line.get("event")
        if event == "trace.start":
            if isinstance(line.get("host"), str):
                line["host"] = self.token(line["host"])
            argv = line.get("argv")
            if isinstance(argv, list):
                line["argv"] = [self._any(arg) for arg in argv]
            line["redacted"] = True
        elif event == "trace.end":
            detail = line.get("detail")
            if (
                line.get("reason") == "exception"
                and isinstance(detail, str)
                and not _NAME.fullmatch(detail)
            ):
                line["detail"] = self.token(detail)
        return line

    def mappings(self, line: dict[str, Any]) -> dict[str, Any]:
        """``line`` with the values of its mapping fields (a log's ``fields``) hashed, in place."""
        for name in MAPPING_FIELDS:
            mapping = line.get(name)
            if isinstance(mapping, dict):
                line[name] = {key: self._any(value) for key, value in mapping.items()}
        return line

    def _any(self, value: Any) -> str:
        """Any JSON value's token (strings as themselves, others as their JSON)."""
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return self.token(text)
