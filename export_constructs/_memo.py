"""Memoised jsii look-ups.

Every call into aws-cdk-lib is a round trip to its Node.js process (~0.3 ms). A stack of
hundreds of export jobs would otherwise repeat the same calls thousands of times (token checks
on the same strings, ``Stack.of`` on the same constructs, the same ARNs), which made synth time
grow with the square of the number of jobs. What is cached here cannot change once computed.
"""

from __future__ import annotations

import functools
import math
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from aws_cdk import Duration, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.region_info import RegionInfo
from constructs import IConstruct

K = TypeVar("K")
V = TypeVar("V")


@functools.lru_cache(maxsize=8192)
def _str_unresolved(value: str) -> bool:
    return Token.is_unresolved(value)


@functools.lru_cache(maxsize=1024)
def _number_unresolved(value: float) -> bool:
    return Token.is_unresolved(value)


#: What every encoded token contains (aws-cdk-lib's ``ANY_TOKEN_MARKER``): a string without it is
#: never a token, whatever else it holds.
_TOKEN_MARK = "Token["
#: aws-cdk-lib's encoded string token (``${Token[<key>]}``, ``STRING_TOKEN_REGEX``'s first
#: branch): a string holding one is unresolved. Other strings with the mark are asked.
_STRING_TOKEN = re.compile(r"\$\{Token\[[a-zA-Z0-9:._-]+\]\}")


def is_unresolved(value: object) -> bool:
    """``Token.is_unresolved`` without the round trip where the answer is plain.

    A string is a token (or holds one) only if it contains aws-cdk-lib's token mark, and surely
    is one if it holds an encoded string token (a job's S3 path made of a bucket name token and
    its own prefix, say); a mapping never is (only its values may be); a sequence only if its
    one element is a list token; numbers are cached (a pure function of the value: a token's
    encoding is recognised by its form, not looked up; ints and infinities never are tokens, and
    jsii could not even send an infinity or a huge int). Anything else is asked. Any mapping or
    sequence a prop is typed for works: jsii itself sends only dicts and lists.
    """
    if isinstance(value, str):
        if _TOKEN_MARK not in value:
            return False
        return _STRING_TOKEN.search(value) is not None or _str_unresolved(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return False  # number tokens are encoded as (finite) floats, never as ints
    if isinstance(value, float):
        return math.isfinite(value) and _number_unresolved(value)
    if isinstance(value, Mapping):
        return False  # sent as a plain object, never a resolvable one: aws-cdk-lib says False
    if isinstance(value, Sequence):
        if all(isinstance(v, str) and _TOKEN_MARK not in v for v in value):
            return False
        return Token.is_unresolved(list(value))  # jsii sends a list, not a tuple or other sequence
    return Token.is_unresolved(value)


#: What a token stands for at most once resolved, for the size of a policy: the pseudo parameters'
#: longest values (``aws-us-gov``, ``ap-southeast-5``, an account id, ``amazonaws.com.cn``), else a
#: bucket name or a resource's ARN part (63; 64 with room).
_TOKEN_SIZES = {"AWS.Partition": 10, "AWS.Region": 14, "AWS.AccountId": 12, "AWS.URLSuffix": 16}
_ANY_TOKEN = re.compile(r"\$\{Token\[([A-Za-z.]*?)\.?\d*\]\}")


def estimated_chars(values: Sequence[str]) -> int:
    """The characters ``values`` take in a policy's list once resolved (each with its quotes and
    comma), a token counted at the most it can stand for."""
    total = 0
    for value in values:
        total += len(value) + 3
        for match in _ANY_TOKEN.finditer(value):
            total += _TOKEN_SIZES.get(match[1], 64) - len(match[0])
    return total


def overflows(
    values: Sequence[str], *, overhead: int = 0, max_chars: int | None = None, count: int | None = None
) -> bool:
    """Whether ``values`` (distinct) are too many, or too long, to list in one policy statement
    (``MAX_LISTED_PREFIXES``; ``max_chars``, default ``MAX_LISTED_CHARS``); ``overhead``:
    characters each value adds once resolved (an object ARN's bucket before a prefix); ``count``:
    how many things they stand for, where that is not their number (several ARNs per source)."""
    from . import _defaults

    unique = sorted(set(values))
    if (len(unique) if count is None else count) > _defaults.MAX_LISTED_PREFIXES:
        return True
    limit = _defaults.MAX_LISTED_CHARS if max_chars is None else max_chars
    return estimated_chars(unique) + overhead * len(unique) > limit


def _weak_memo(compute: Callable[[K], V]) -> Callable[[K], V]:
    """Cache ``compute(obj)`` per object, without keeping the object alive."""
    cache: weakref.WeakKeyDictionary[K, V] = weakref.WeakKeyDictionary()

    @functools.wraps(compute)
    def lookup(obj: K) -> V:
        try:
            return cache[obj]
        except KeyError:
            value = cache[obj] = compute(obj)
            return value
        except TypeError:  # not weak-referenceable: compute every time
            return compute(obj)

    return lookup


@_weak_memo
def stack_of(scope: IConstruct) -> Stack:
    """``Stack.of(scope)``: a construct never changes stacks."""
    return Stack.of(scope)


@_weak_memo
def path_of(scope: IConstruct) -> str:
    """``scope.node.path``: fixed once the construct exists (a job's siblings share it)."""
    return scope.node.path


@_weak_memo
def region_of(stack: Stack) -> str:
    """``stack.region``: fixed when the stack is made."""
    return stack.region


@functools.lru_cache(maxsize=64)
def partition_of(region: str) -> str | None:
    """The partition of a concrete Region (``cn-north-1`` -> ``aws-cn``) from aws-cdk-lib's Region
    facts; None for a Region they do not know."""
    return RegionInfo.get(region).partition


@_weak_memo
def addr_of(scope: IConstruct) -> str:
    """``scope.node.addr``: fixed once the construct exists."""
    return scope.node.addr


@_weak_memo
def validations_of(scope: IConstruct) -> Validations:
    """``Validations.of(scope)``: a construct's acknowledgements go through one object."""
    return Validations.of(scope)


#: A Duration's conversions, finest first, with the milliseconds in one of each unit.
_UNITS = (
    ("to_milliseconds", 1),
    ("to_seconds", 1000),
    ("to_minutes", 60_000),
    ("to_hours", 3_600_000),
    ("to_days", 86_400_000),
)


@_weak_memo
def duration_parts(duration: Duration) -> tuple[float, int]:
    """``(amount, milliseconds per unit)`` of ``duration``: for a concrete one, its milliseconds
    (fractions kept, not refused with a jsii error: validation reports them) and 1; for one made
    of a token (``Duration.days(parameter.value_as_number)``), the token in its own unit, the
    only conversion aws-cdk-lib allows for it (``MustBeDurationSpecifiedDuration`` otherwise)."""
    for method, factor in _UNITS:
        try:
            amount: float = getattr(duration, method)(integral=False)
        except RuntimeError:  # jsii: a token's Duration converts to its own unit only
            continue
        return amount, factor
    raise ValueError(f"cannot convert {duration.to_human_string()} to any unit")


def seconds_of(duration: Duration) -> float:
    """``duration`` in seconds (fractions kept), or a number token for a Duration of a token.
    Durations are immutable, and the default ones are shared (:func:`duration_parts` memoises)."""
    amount, factor = duration_parts(duration)
    return amount if is_unresolved(amount) else amount * factor / 1000


@_weak_memo
def role_arn_of(role: iam.IRole) -> str:
    """``role.role_arn`` of a role jobs share."""
    return role.role_arn


@_weak_memo
def key_arn_of(key: kms.IKey) -> str:
    """``key.key_arn`` of a destination's key."""
    return key.key_arn


@_weak_memo
def bucket_name_of(bucket: s3.IBucket) -> str:
    """``bucket.bucket_name`` of a destination's bucket."""
    return bucket.bucket_name


__all__ = [
    "addr_of",
    "bucket_name_of",
    "is_unresolved",
    "key_arn_of",
    "path_of",
    "region_of",
    "role_arn_of",
    "seconds_of",
    "stack_of",
    "validations_of",
]
