"""Synth-time validation: skip unresolved tokens, collect every problem, raise once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from constructs import Construct

from ._memo import is_unresolved

#: AWS reads its patterns as Java regular expressions: ``\d`` and ``\w`` are ASCII (``re.ASCII``),
#: and ``.`` matches no line terminator, where Python's ``.`` refuses only "\n". The other
#: terminators are read as "\n" when matching, which no API pattern admits elsewhere.
_AS_NEWLINE = str.maketrans(dict.fromkeys("\r\x85\u2028\u2029", "\n"))


class Problems:
    """Collects the problems of one construct's props and raises them together.

    Usage::

        problems = Problems(self)
        problems.length("job_name", job_name, min_len=1, max_len=63)
        problems.raise_if_any()
    """

    def __init__(self, scope: Construct) -> None:
        self._scope = scope
        self._messages: list[str] = []

    def add(self, prop: str, message: str) -> None:
        self._messages.append(f"{prop}: {message}")

    def raise_if_any(self) -> None:
        if self._messages:
            details = "\n  - ".join(self._messages)
            raise ValueError(f"{self._scope.node.path}: invalid props:\n  - {details}")

    # -- rules (each skips unresolved tokens) ------------------------------------------------

    def length(
        self,
        prop: str,
        value: str | None,
        *,
        min_len: int = 0,
        max_len: int | None = None,
    ) -> None:
        if value is None or is_unresolved(value):
            return
        if len(value) < min_len:
            self.add(
                prop,
                f"must be at least {min_len} characters long, got {len(value)} ({value!r})",
            )
        if max_len is not None and len(value) > max_len:
            self.add(
                prop,
                f"must be at most {max_len} characters long, got {len(value)} ({_short(value)})",
            )

    def pattern(
        self,
        prop: str,
        value: str | None,
        regex: str,
        *,
        full: bool = True,
        hint: str = "",
        unicode: bool = False,
    ) -> None:
        """``regex`` is the API's pattern, read as AWS reads it (see ``_AS_NEWLINE``); AWS
        patterns are anchored only where they say so, but a value must match as a whole unless
        ``full`` is False. ``unicode``: ``regex`` is written for Python's Unicode-wide ``re`` as it is
        (the tag patterns)."""
        if value is None or is_unresolved(value):
            return
        compiled = re.compile(regex) if unicode else re.compile(regex, re.ASCII)
        subject = value if unicode else value.translate(_AS_NEWLINE)
        ok = compiled.fullmatch(subject) if full else compiled.match(subject)
        if not ok:
            extra = f" ({hint})" if hint else ""
            self.add(prop, f"must match the pattern {regex}{extra}, got {_short(value)}")

    def one_of(self, prop: str, value: str | None, allowed: Sequence[str]) -> None:
        if value is None or is_unresolved(value):
            return
        if value not in allowed:
            self.add(prop, f"must be one of {', '.join(allowed)}, got {value!r}")

    def count(
        self,
        prop: str,
        values: Sequence[object] | None,
        *,
        min_count: int = 0,
        max_count: int,
    ) -> None:
        if values is None or is_unresolved(values):
            return
        if not min_count <= len(values) <= max_count:
            self.add(prop, f"must have {min_count} to {max_count} items, got {len(values)}")

    def tags(
        self,
        prop: str,
        tags: Mapping[str, str] | None,
        *,
        max_count: int,
        key_pattern: str,
        value_pattern: str,
        max_key: int = 128,
        max_value: int = 256,
    ) -> None:
        """AWS's common tag rules: count, key 1..max_key, value 0..max_value, the pattern, and
        no ``aws:`` key prefix in any case (reserved for AWS). The patterns are Python's (see
        ``pattern``'s ``unicode``); the value of a key that is a token is checked all the same."""
        if tags is None or is_unresolved(tags):
            return
        if len(tags) > max_count:
            self.add(prop, f"must have at most {max_count} tags, got {len(tags)}")
        for key, value in tags.items():
            if not is_unresolved(key):
                self.length(f"{prop}[{key!r}] key", key, min_len=1, max_len=max_key)
                self.pattern(f"{prop}[{key!r}] key", key, key_pattern, unicode=True)
                if key.lower().startswith("aws:"):
                    self.add(
                        f"{prop}[{key!r}] key",
                        "must not start with 'aws:' (reserved for AWS, in any case)",
                    )
            self.length(f"{prop}[{key!r}] value", value, max_len=max_value)
            self.pattern(f"{prop}[{key!r}] value", value, value_pattern, unicode=True)


def _short(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def all_resolved(values: Iterable[str]) -> bool:
    return not any(is_unresolved(v) for v in values)
