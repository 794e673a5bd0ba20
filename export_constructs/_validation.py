"""Synth-time validation: skip unresolved tokens, collect every problem, raise once."""

from __future__ import annotations

import enum
import functools
import inspect
import re
import textwrap
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_cdk import IResolvable
from constructs import Construct

from ._memo import is_unresolved, path_of

F = TypeVar("F", bound=Callable[..., None])

#: AWS reads its patterns as Java regular expressions: ``\d`` and ``\w`` are ASCII (``re.ASCII``),
#: and ``.`` matches no line terminator, where Python's ``.`` refuses only "\n". The other
#: terminators are read as "\n" when matching, which no API pattern admits elsewhere.
_AS_NEWLINE = str.maketrans(dict.fromkeys("\r\x85\u2028\u2029", "\n"))


@dataclass(frozen=True)
class Text:
    """A string prop's rule as its API states it: a length, and patterns, each with what it admits
    in words (the messages give the words and :attr:`example`, a value that passes, before the
    pattern itself)."""

    min_len: int = 0
    max_len: int | None = None
    patterns: tuple[tuple[str, str], ...] = ()
    """``(pattern, rule in words)`` pairs, each checked (see :meth:`Problems.pattern`)."""
    example: str = ""

    @classmethod
    def of(cls, pattern: str, words: str, example: str, *, min_len: int = 0, max_len: int | None = None) -> Text:
        """The rule of one pattern (what most are)."""
        return cls(min_len, max_len, ((pattern, words),), example)


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
            raise ValueError(_report(self._scope.node.path, self._messages))

    # -- rules (each skips unresolved tokens) ------------------------------------------------

    def text(self, prop: str, value: str | None, rule: Text) -> None:
        """``value`` (None: not given) against ``rule``: its length, then each pattern."""
        self.length(prop, value, min_len=rule.min_len, max_len=rule.max_len)
        for pattern, words in rule.patterns:
            self.pattern(prop, value, pattern, rule=words, example=rule.example)

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
        rule: str,
        example: str,
        full: bool = True,
        unicode: bool = False,
        source: str = "the API's pattern",
    ) -> None:
        """``regex`` is the API's pattern (else ``source`` says whose it is), read as AWS reads it
        (see ``_AS_NEWLINE``); AWS patterns are anchored only where they say so, but a value must
        match as a whole unless ``full`` is False. ``unicode``: ``regex`` is written for Python's
        Unicode-wide ``re`` as it is (the tag patterns).

        The message gives ``rule`` in words and ``example``, a value that matches, before the
        pattern itself: ``dataset_arn: must be a Personalize dataset ARN such as arn:aws:...,
        got 'shop/USERS' (the API's pattern: arn:...)``."""
        if value is None or is_unresolved(value):
            return
        compiled = re.compile(regex) if unicode else re.compile(regex, re.ASCII)

        def matches(subject: str) -> bool:
            subject = subject if unicode else subject.translate(_AS_NEWLINE)
            return bool(compiled.fullmatch(subject) if full else compiled.match(subject))

        if not matches(value):
            assert matches(example), f"the example {example!r} does not match {regex}"
            shown = example if example.startswith(("arn:", "s3://")) else repr(example)  # a name: quoted
            self.add(prop, f"must be {rule} such as {shown}, got {_short(value)} ({source}: {regex})")

    def one_of(self, prop: str, value: str | None, allowed: Sequence[str]) -> None:
        if value is None or is_unresolved(value):
            return
        if value not in allowed:
            self.add(prop, f"must be one of {', '.join(allowed)}, got {value!r}")

    def number(self, prop: str, value: int | None, *, low: tuple[int, str], high: tuple[int, str]) -> None:
        """``value`` (None: not given) within ``low`` and ``high``, each a bound and why it is one
        (``(1, "segment versions start at 1")``)."""
        if value is None or is_unresolved(value):
            return
        if value < low[0]:
            self.add(prop, f"must be at least {low[0]} ({low[1]}), got {value}")
        elif value > high[0]:
            self.add(prop, f"must be at most {high[0]} ({high[1]}), got {value}")

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
        characters: str,
        max_key: int = 128,
        max_value: int = 256,
    ) -> None:
        """AWS's common tag rules: count, key 1..max_key, value 0..max_value, the pattern, and
        no ``aws:`` key prefix in any case (reserved for AWS). The patterns are Python's (see
        ``pattern``'s ``unicode``); ``characters`` says in words what they admit (``"letters,
        digits, spaces and _ . : / = + - @"``). The value of a key that is a token is checked all
        the same."""
        if tags is None:
            return
        if len(tags) > max_count:
            self.add(prop, f"must have at most {max_count} tags, got {len(tags)}")
        for key, value in tags.items():
            if not is_unresolved(key):
                self.length(f"{prop}[{key!r}] key", key, min_len=1, max_len=max_key)
                self.pattern(
                    f"{prop}[{key!r}] key",
                    key,
                    key_pattern,
                    rule=f"a tag key of {characters}",
                    example="team",
                    unicode=True,
                )
                if key.lower().startswith("aws:"):
                    self.add(
                        f"{prop}[{key!r}] key",
                        "must not start with 'aws:' (reserved for AWS, in any case)",
                    )
            self.length(f"{prop}[{key!r}] value", value, max_len=max_value)
            self.pattern(
                f"{prop}[{key!r}] value",
                value,
                value_pattern,
                rule=f"a tag value of {characters}",
                example="ml-platform",
                unicode=True,
            )


def _report(path: str, problems: list[str]) -> str:
    """The one form of every bad-props error: the construct's path, then a line per problem."""
    details = "\n  - ".join(problems)
    return f"{path}: invalid props:\n  - {details}"


class PropTypeError(TypeError, ValueError):
    """A prop of the wrong type: a ``TypeError``, as jsii raises for aws-cdk-lib's own
    constructs, and a ``ValueError`` like every other bad prop of this library's."""


def typed_props(init: F) -> F:
    """Check a construct's keyword-only props against their annotations before ``init`` runs, as
    jsii's generated classes do for aws-cdk-lib's: one :class:`PropTypeError` naming the
    construct's path and each prop of the wrong type (a role given as its ARN string, ``wait=1``).
    Tokens are of the types they stand for (a string token is a ``str``), so they pass."""
    signature = inspect.signature(init)
    names = [p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    hints: dict[str, Any] = {}

    @functools.wraps(init)
    def checked(self: Construct, *args: Any, **kwargs: Any) -> None:
        if not hints:  # annotations are strings until their modules have loaded
            hints.update(typing.get_type_hints(init))
        bound = signature.bind(self, *args, **kwargs).arguments
        problems = [
            f"{name}: must be {_describe(hints[name])}, got {type(bound[name]).__name__} {_short(bound[name])}"
            for name in names
            if name in bound and not _is_a(bound[name], hints[name])
        ]
        if problems:
            scope, id_ = bound.get("scope"), bound.get("id")
            path = "/".join(p for p in (path_of(scope) if isinstance(scope, Construct) else "", str(id_)) if p)
            raise PropTypeError(_report(path, problems))
        init(self, *args, **kwargs)

    return typing.cast(F, checked)


C = TypeVar("C", bound=type)


def init_signature(cls: C) -> C:
    """Make ``help(cls)`` and ``inspect.signature(cls)`` show the constructor's parameters: jsii's
    metaclass defines ``__call__(*args, **kwargs)``, which they show instead."""
    signature = inspect.signature(cls.__init__)  # type: ignore[misc]
    cls.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])  # type: ignore[attr-defined]
    return cls


def share_args(cls: type, base: str, shared: Mapping[str, str], values: Callable[[], Mapping[str, str]]) -> None:
    """Put the ``shared`` Args entries in place of each entry of ``cls``'s docstring that stands
    for them (``<names>: the props every ... takes (``<base>``).``, on one line or two), in that
    order, indented as it is, with ``values()`` filled in: ``help()`` and the API reference show
    every prop."""
    line = re.compile(rf"^( *)([a-z_, ]+): the props every [a-z ]+ takes\s+\(``{base}``\)\.$", re.MULTILINE)

    def entries(match: re.Match[str]) -> str:
        filled = values()
        return textwrap.indent("\n".join(shared[n.strip()].format(**filled) for n in match[2].split(",")), match[1])

    if cls.__doc__:
        cls.__doc__ = line.sub(entries, cls.__doc__)


def _is_a(value: object, hint: Any) -> bool:
    """Whether ``value`` fits ``hint``: the forms the constructs' props use."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_a(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if origin is Mapping:  # not a token for a whole map: tags are written entry by entry
        return isinstance(value, Mapping) and all(_is_a(k, args[0]) and _is_a(v, args[1]) for k, v in value.items())
    if origin is Sequence:  # or a token standing for a list
        return _implements(value, IResolvable) or (
            isinstance(value, Sequence)
            and not isinstance(value, str | bytes)
            and all(_is_a(item, args[0]) for item in value)
        )
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:  # a number token is a float
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and is_unresolved(value)
        )
    if _is_jsii_interface(hint):  # a Protocol: isinstance cannot tell
        return _implements(value, hint)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a form no prop uses


def _implements(value: object, interface: Any) -> bool:
    """Whether ``value`` implements the jsii interface ``interface`` (or one extending it): by the
    interfaces its class declares (``@jsii.implements``), or as that interface's proxy. A dynamic
    proxy (what some ``from_*`` methods return) is taken on trust: jsii alone knows its
    interfaces."""
    mro = type(value).__mro__
    if any(vars(k).get("__jsii_type__") == interface.__jsii_type__ for k in mro):
        return True  # the interface's proxy, or a proxy of one extending it
    if any(interface in i.__mro__ for k in mro for i in vars(k).get("__jsii_ifaces__", ())):
        return True
    if any("__jsii_type__" in vars(k) or "__jsii_ifaces__" in vars(k) for k in mro):
        return False  # a jsii class or proxy of something else (a Duration given as a role)
    return hasattr(value, "__jsii_ref__")


def _is_jsii_interface(hint: Any) -> bool:
    return isinstance(hint, type) and hasattr(hint, "__jsii_type__") and getattr(hint, "_is_protocol", False)


def _describe(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in args)
    if hint is type(None):
        return "None"
    if origin is Mapping:
        return f"a mapping of {_plural(args[0])} to {_plural(args[1])}"
    if origin is Sequence:
        return f"a list of {_plural(args[0])}"
    if hint is str:
        return "a string"
    if hint is bool:
        return "True or False"
    if hint is int:
        return "an int"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return f"a {hint.__name__} member"
    name = getattr(hint, "__name__", str(hint))
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"


def _plural(hint: Any) -> str:
    """``hint`` as the items of a mapping or list: ``strings``, ``ints (each may be None)``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        named = " or ".join(_plural(arg) for arg in args if arg is not type(None))
        return f"{named} (each may be None)" if type(None) in args else named
    if hint is str:
        return "strings"
    if hint is int:
        return "ints"
    return f"{getattr(hint, '__name__', hint)}s"


def _short(value: object) -> str:
    """``value`` for an error message: a long string cut inside its quotes, else a cut repr."""
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
