"""Bad input, property-based: the strategies, oracles and checks the
``test_bad_input_<service>.py`` modules share, and the properties of ``ExportDestination`` and of
the props every export job has (``prefix``, ``timeout``).

The property, for every validated prop of every public construct: any value (any string, list,
mapping or number where the prop takes one) either passes or raises a ``ValueError`` whose
message starts with the construct's path and names the prop in each problem - never another
exception (no jsii error, TypeError, KeyError, ...) - and it passes exactly when an oracle written
here says so. The oracles are written from the API seeds the project was built from (seed
000-004) and, where the construct is stricter than a seed on purpose, from the construct's
documented rule; each says which.

How the oracles read the API references' patterns: AWS validates them as Java regular expressions (Smithy
says ECMA-262): ``.`` matches no line terminator and ``\\d``/``\\w`` are ASCII only. The constructs
require a value to match a pattern as a whole (their documented convention, stricter than an
unanchored search). So the oracles spell the patterns out with ``ANY`` for ``.`` and ASCII classes
for ``\\d``/``\\w``, and match them with ``re.fullmatch``.

Speed: one App/Stack/ExportDestination per module; every example adds its construct under a fresh
id in that stack (validation runs in the constructor, nothing is synthesized).
"""

from __future__ import annotations

import itertools
import json
import re
import string
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct
from hypothesis import HealthCheck, assume, event, example, find, given, settings
from hypothesis import strategies as st

from export_constructs import ExportDestination, PersonalizeDatasetExportJob

T = TypeVar("T")

ACCOUNT = "123456789012"
REGION = "us-east-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)

#: Java's line terminators: its ``.`` matches none of them (ECMA-262's none but ``\x85``).
LINE_BREAKS = "\n\r\x85\u2028\u2029"
#: A seed pattern's ``.``, as AWS reads it.
ANY = f"[^{LINE_BREAKS}]"
ALNUM = string.ascii_letters + string.digits
#: Characters that break patterns or trip up regex dialects: line terminators, non-ASCII digits
#: and letters (Python's ``\d``/``\w`` take them, Java's do not), separators, NUL, an emoji, and
#: the punctuation the API references' patterns admit in some places and not in others.
BREAKERS = LINE_BREAKS + "\u0661\u00b2\u00e9\u017f\u212a\u00a0\u2003\t \x00\U0001f600/:#*$|-_.@+=,'\"A"

#: Modest example counts keep the whole bad-input suite around a minute on two cores.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    database=None,  # nothing written into the work tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# -- the check --------------------------------------------------------------------------------


@dataclass
class Scope:
    """The module's stack and destination; each example's construct gets a fresh id."""

    stack: cdk.Stack
    destination: ExportDestination
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def new_id(self, letter: str = "J") -> str:
        return f"{letter}{next(self._ids)}"


def new_scope(name: str, env: cdk.Environment = ENV) -> Scope:
    stack = cdk.Stack(cdk.App(), name, env=env)
    return Scope(stack, ExportDestination(stack, "Exports"))


def accepted(scope: Scope, build: Callable[[str], object], props: Collection[str]) -> bool:
    """Build a construct with ``build(id)`` under a fresh id: True when it passes; False when it
    raises a ValueError that starts with its path and names one of ``props`` in every problem.
    Any other exception propagates, and fails the test."""
    cid = scope.new_id()
    try:
        build(cid)
    except ValueError as error:
        message = str(error)
        head, *problems = message.split("\n  - ")
        assert head == f"{scope.stack.node.path}/{cid}: invalid props:", message
        assert problems, message
        named = re.compile("(?:" + "|".join(re.escape(p) for p in props) + r")[\[:. ]")
        assert all(named.match(p) for p in problems), message
        event("rejected")
        return False
    event("accepted")
    return True


def in_stack_env(arn: str) -> bool:
    """The constructs' rule for a source ARN (a dataset, forecast, snapshot or world) in a stack
    of a known account and Region (every module's stack here): no ``*`` or ``?`` (the handler's
    policy names the source: they would be wildcards), and an ARN-shaped value (``arn:`` and five
    fields, the last may hold colons) is of the stack's partition (``aws`` for REGION) and names its Region and
    account, where the service reads its sources. Other values are left to the prop's own
    pattern."""
    if "*" in arn or "?" in arn:
        return False
    fields = arn.split(":", 5)
    if len(fields) < 6 or fields[0] != "arn":
        return not arn.startswith("arn:")  # an ARN must be whole (IAM refuses a partial one)
    return fields[1] == "aws" and fields[3] == REGION and fields[4] == ACCOUNT  # the partition of REGION


def of_account(arn: str) -> bool:
    """The constructs' rule for a user's role in a stack of a known account: an ARN-shaped role
    ARN names the stack's account (iam:PassRole passes no role of another account)."""
    fields = arn.split(":", 5)
    return len(fields) < 6 or fields[0] != "arn" or fields[4] == ACCOUNT


def reaches_both(strategy: st.SearchStrategy[T], oracle: Callable[[T], bool]) -> None:
    """The strategy yields values the oracle accepts and values it refuses."""
    quick = settings(database=None, max_examples=2000, suppress_health_check=list(HealthCheck))
    find(strategy, oracle, settings=quick)
    find(strategy, lambda v: not oracle(v), settings=quick)


def token(kind: str, name: str) -> str:
    """An unresolved string: ``{"Ref": name}`` or a ``Lazy.string`` producing ``lazy-<name>``."""
    if kind == "ref":
        return cdk.Token.as_string(cdk.Fn.ref(name))
    return cdk.Lazy.string(Produce(f"lazy-{name}"))


def passed_through(made: Construct, kind: str, name: str) -> bool:
    """Whether the token ``token(kind, name)`` reached the job's custom-resource properties."""
    resolved = json.dumps(properties_of(made))
    return json.dumps({"Ref": name}) in resolved if kind == "ref" else f"lazy-{name}" in resolved


# -- strategies -------------------------------------------------------------------------------


def _no_token(value: str) -> bool:
    # CDK encodes tokens as "${Token[...]}" strings and refuses one it did not issue: such text
    # is CDK's, not user input.
    return "{Token[" not in value


def text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Arbitrary text, any Unicode, empty included."""
    return st.text(max_size=max_size).filter(_no_token)


def long_text() -> st.SearchStrategy[str]:
    """Arbitrary text of a few hundred to ~1,300 characters (cheap: a short text repeated)."""
    return st.builds(lambda s, n: (s * n)[:n], st.text(min_size=1, max_size=8), st.integers(100, 1300)).filter(
        _no_token
    )


def near_misses(valid: st.SearchStrategy[str], chars: str = BREAKERS) -> st.SearchStrategy[str]:
    """A valid value with one character inserted, replaced or deleted."""

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        value = draw(valid)
        i = draw(st.integers(0, len(value)))
        char = draw(st.sampled_from(chars))
        how = draw(st.sampled_from(["insert", "replace", "delete"]))
        if how == "insert":
            return value[:i] + char + value[i:]
        if how == "replace":
            return value[:i] + char + value[i + 1 :]
        return value[:i] + value[i + 1 :]

    return mutate()


def sized(build: Callable[[int], str], *limits: int) -> st.SearchStrategy[str]:
    """``build(n)`` (a value of length n) for n just inside, at and just outside each limit."""
    return st.sampled_from([n for limit in limits for n in (limit - 1, limit, limit + 1) if n >= 0]).map(build)


def mixed(
    valid: st.SearchStrategy[str],
    *extra: st.SearchStrategy[str],
    chars: str = BREAKERS,
) -> st.SearchStrategy[str]:
    """Valid values, near misses, arbitrary and very long text, and ``extra`` (limits ...)."""
    return st.one_of(valid, near_misses(valid, chars), text(), long_text(), *extra)


def ascii_word(alphabet: str = ALNUM, min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


def role_arns(valid: st.SearchStrategy[str], max_len: int) -> st.SearchStrategy[str]:
    """IAM role ARNs: valid ones, near misses, and ARNs built from odd parts (other partitions,
    services, accounts of the wrong length or with non-ASCII digits, users instead of roles)."""
    head = "arn:aws:iam::123456789012:role/"
    parts = st.builds(
        lambda p, svc, acct, res: f"arn:{p}:{svc}::{acct}:{res}",
        st.one_of(st.sampled_from(["aws", "aws-cn", "aws-us-gov", "AWS", "a_b", "\u0661"]), text(6)),
        st.one_of(st.sampled_from(["iam", "forecast", "sts"]), text(6)),
        st.one_of(
            st.sampled_from([ACCOUNT, "210987654321", ACCOUNT[:-1], ACCOUNT + "3", "\u0661" * 12, "12345678901x"]),
            text(14),
        ),
        st.one_of(
            ascii_word(ALNUM + "+=,.@-_/").map(lambda n: "role/" + n),
            ascii_word().map(lambda n: "role" + n),
            st.sampled_from(["user/x", "role/", "role", "role//x"]),
            text().map(lambda n: "role/" + n),
        ),
    )
    return st.one_of(
        valid,
        parts,
        near_misses(valid),
        sized(lambda n: head + "r" * (n - len(head)), max_len),
        long_text().map(lambda s: head + s),
    )


def bucket_names() -> st.SearchStrategy[str]:
    """Names CDK's ``Bucket.from_bucket_name`` may take (it refuses some itself: the tests skip
    those): lowercase, capitals, "_" and "." (legacy names), at the first place too."""
    middle = string.ascii_lowercase + string.digits + ".-_A"
    return st.builds(
        lambda first, rest: first + rest,
        st.sampled_from(string.ascii_lowercase[:3] + "09AZ_.-"),
        st.text(alphabet=middle, min_size=2, max_size=64),
    )


def tag_maps(
    key: st.SearchStrategy[str], value: st.SearchStrategy[str], max_count: int
) -> st.SearchStrategy[dict[str, str]]:
    """Tag mappings: a few odd entries, or many plain ones around the count limit."""
    keys = st.one_of(
        key,
        near_misses(key),
        text(),
        sized(lambda n: "k" * n, 128),
        # The reserved prefix in any case, and near it.
        st.builds(
            lambda head, rest: head + rest,
            st.sampled_from(["aws:", "AWS:", "Aws:", "aWs:", "awS:", "aws", "aws-", "awsx:", "xaws:", " aws:"]),
            key,
        ),
    )
    values = st.one_of(value, near_misses(value), text(), sized(lambda n: "v" * n, 256))
    few = st.dictionaries(keys, values, max_size=4)
    many = st.builds(
        lambda n, extra: {**{f"t{i}": "v" for i in range(n)}, **extra},
        st.sampled_from([max_count - 1, max_count, max_count + 1]),
        st.dictionaries(keys, values, max_size=1),
    )
    return st.one_of(few, many)


def tags_ok(
    tags: Mapping[str, str], *, max_count: int, char_ok: Callable[[str], bool], tokens: Collection[str] = ()
) -> bool:
    """AWS's tag rules: at most ``max_count`` tags; key 1-128 and value 0-256 characters, each
    ``char_ok``; no key starting with ``aws:`` in any (ASCII) case. A key in ``tokens`` is known at
    deploy time only: its value is checked all the same."""

    def key_ok(k: str) -> bool:
        return k in tokens or (1 <= len(k) <= 128 and all(map(char_ok, k)) and k[:4].lower() != "aws:")

    return len(tags) <= max_count and all(key_ok(k) and len(v) <= 256 and all(map(char_ok, v)) for k, v in tags.items())


def unicode_tag_char(c: str) -> bool:
    """botocore's tag pattern ``^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$``, by Unicode category."""
    return unicodedata.category(c)[0] in "LZN" or c in "_.:/=+-@"


def with_token_key(tags: Mapping[str, str], value: str | None) -> tuple[dict[str, str], list[str]]:
    """``tags`` plus, when ``value`` is not None, a tag whose key is a token."""
    if value is None:
        return dict(tags), []
    key = cdk.Token.as_string(cdk.Fn.ref("TagKey"))
    return {**tags, key: value}, [key]


@jsii.implements(cdk.IStableStringProducer)
class Produce:
    """``Lazy.string``'s producer."""

    def __init__(self, value: str) -> None:
        self.value = value

    def produce(self) -> str:
        return self.value


def properties_of(made: Construct) -> dict[str, Any]:
    """A job's custom-resource properties, resolved (without synthesizing)."""
    cfn = made.node.default_child
    assert isinstance(cfn, cdk.CfnResource)
    resolved: dict[str, Any] = cdk.Stack.of(made).resolve(cfn._cfn_properties)
    return resolved


def prefixes(*limits: int) -> st.SearchStrategy[str]:
    """Folders of plain names (and the empty prefix), near misses (a leading "/", no trailing
    "/", line breaks, the handler's separator), arbitrary text, and folders around ``limits``."""
    valid = st.lists(ascii_word(ALNUM + "-_.=", max_size=10), max_size=5).map(lambda ps: "".join(p + "/" for p in ps))
    folder = sized(lambda n: "p" * (n - 1) + "/" if n else "", *limits)
    return st.one_of(
        mixed(valid, folder, chars=BREAKERS + "/"),
        valid.map(lambda p: p + "|#|/"),
        valid.map(lambda p: "/" + p),
    )


def balanced(text: str) -> bool:
    """Whether every bracket of ``text`` - ``()``, ``[]``, ``{}`` - closes the one opened last."""
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    for char in text:
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return False
    return not stack


def prefix_ok(prefix: str, max_len: int = 512) -> bool:
    """The constructs' rule for ``prefix`` (no seed states one): at most 512 characters (S3 keys
    are at most 1,024 bytes and the export's own names need room), a folder (empty, or ending in
    "/") that does not start with "/", without the handler's signal separator "|#|" and without
    line breaks (the services' S3 path patterns - Personalize ``(s3|http|https)://.+``, Forecast
    ``^s3://[a-z0-9].+$``, RoboMaker's s3Prefix ``.*`` - admit none); without an empty folder
    ``//`` (RDS and Logs add their own folder after a "/"); its brackets balanced (cdk-nag's
    acknowledgement of the prefix's grant is an id CDK parses as brackets)."""
    return (
        len(prefix) <= max_len
        and not prefix.startswith("/")
        and "|#|" not in prefix
        and (prefix == "" or prefix.endswith("/"))
        and not any(c in LINE_BREAKS for c in prefix)
        and "//" not in prefix
        and balanced(prefix)
    )


#: Timeouts as (unit, amount): around the limits, and anything from 0 to days, in whole and
#: fractional seconds.
UNITS: dict[str, int] = {"millis": 1, "seconds": 1000, "minutes": 60_000, "hours": 3_600_000, "days": 86_400_000}
timeouts = st.one_of(
    st.tuples(st.just("seconds"), st.sampled_from([0, 59, 60, 61, 3300, 3301, 43_199, 43_200, 43_201])),
    st.tuples(st.just("millis"), st.sampled_from([59_999, 60_000, 60_001, 60_500, 43_200_000, 43_200_001])),
    st.tuples(st.sampled_from(list(UNITS)), st.integers(0, 50_000)),
    st.tuples(st.just("millis"), st.integers(0, 50_000_000)),
)


def duration(unit_amount: tuple[str, int]) -> cdk.Duration:
    unit, amount = unit_amount
    build: Callable[[float], cdk.Duration] = getattr(cdk.Duration, unit)
    return build(amount)


def timeout_ok(unit_amount: tuple[str, int]) -> bool:
    """The constructs' rule: 1 minute to 12 hours (a custom resource up to 55 minutes, then a
    wait condition, which waits at most 43,200 s), in whole seconds."""
    unit, amount = unit_amount
    ms = amount * UNITS[unit]
    return ms % 1000 == 0 and 60_000 <= ms <= 43_200_000


# -- what each service's module checks of its own job, with its own strategies, oracles and
# examples ----------------------------------------------------------------------------------------


class MakeJob(Protocol):
    """A module's ``job(scope, **props)``: a builder for ``accepted`` of its job with valid props
    but ``props``."""

    def __call__(self, scope: Scope, **props: Any) -> Callable[[str], Construct]: ...


def module_scope(name: str, env: cdk.Environment = ENV) -> object:
    """A module's ``scope`` fixture (assign it to ``scope``): one stack for all its examples."""
    return pytest.fixture(scope="module", name="scope")(lambda: new_scope(name, env))


def job_builder(make: Callable[..., Construct], scope: Scope, props: Mapping[str, Any]) -> Callable[[str], Construct]:
    """A builder for ``accepted``: ``make(stack, id, destination=..., **props)``."""
    kwargs: dict[str, Any] = {"destination": scope.destination, **props}
    return lambda cid: make(scope.stack, cid, **kwargs)


def check_role(scope: Scope, job: MakeJob, arn: str, role_ok: Callable[[str], bool]) -> None:
    """A role imported from ``arn`` passes exactly when ``role_ok(arn)``; an ARN CDK's own parsing
    refuses is not the construct's input (the example is rejected)."""
    try:
        role = iam.Role.from_role_arn(scope.stack, scope.new_id("R"), arn, mutable=False)
    except RuntimeError:
        assume(False)
    assert accepted(scope, job(scope, role=role), ["role"]) == role_ok(arn)


#: botocore's tag characters ``[\p{L}\p{Z}\p{N}_.:/=+\-@]`` (of the separators, the spaces).
UNICODE_TAG_CHARS = st.characters(categories=["L", "N", "Zs"]) | st.sampled_from("_.:/=+-@")


def unicode_tag_maps(max_count: int) -> st.SearchStrategy[dict[str, str]]:
    """``tag_maps`` of ``UNICODE_TAG_CHARS``, around ``max_count`` tags."""
    return tag_maps(
        st.text(UNICODE_TAG_CHARS, min_size=1, max_size=12), st.text(UNICODE_TAG_CHARS, max_size=12), max_count
    )


def check_tags(
    scope: Scope,
    job: MakeJob,
    tags: Mapping[str, str],
    token_key_value: str | None,
    tag_map_ok: Callable[..., bool],
) -> None:
    """``tags`` (plus a token key of ``token_key_value`` when not None) pass exactly when
    ``tag_map_ok(tags, tokens=<the token keys>)``."""
    value, tokens = with_token_key(tags, token_key_value)
    assert accepted(scope, job(scope, tags=value), ["tags"]) == tag_map_ok(value, tokens=tokens)


def prefix_property(job: MakeJob, oracle: Callable[[str], bool], *examples: str) -> Callable[..., None]:
    """A module's ``test_prefix``: ``prefixes(512)`` (and ``examples``) on ``job`` pass exactly when
    ``oracle`` says so."""

    @PROPERTY
    @given(prefixes(512))
    def test_prefix(scope: Scope, prefix: str) -> None:
        assert accepted(scope, job(scope, prefix=prefix), ["prefix"]) == oracle(prefix)

    for value in examples:
        test_prefix = example(value)(test_prefix)
    return test_prefix


def timeout_property(job: MakeJob) -> Callable[..., None]:
    """A module's ``test_timeout``: ``timeouts`` on ``job`` pass exactly when ``timeout_ok``
    (30 examples: the full run is on Personalize's job, below)."""

    @settings(PROPERTY, max_examples=30)
    @given(timeouts)
    def test_timeout(scope: Scope, unit_amount: tuple[str, int]) -> None:
        assert accepted(scope, job(scope, timeout=duration(unit_amount)), ["timeout"]) == timeout_ok(unit_amount)

    return test_timeout


def strategies_reach_both(**cases: tuple[st.SearchStrategy[Any], Callable[[Any], bool]]) -> Callable[..., None]:
    """A module's ``test_strategies_reach_both_branches``: each prop's strategy (the test's id is
    the keyword) yields values its oracle accepts and values it refuses."""

    def test_strategies_reach_both_branches(strategy: st.SearchStrategy[Any], oracle: Callable[[Any], bool]) -> None:
        reaches_both(strategy, oracle)

    parametrized: Callable[..., None] = pytest.mark.parametrize(
        ("strategy", "oracle"), list(cases.values()), ids=list(cases)
    )(test_strategies_reach_both_branches)
    return parametrized


def check_refused(scope: Scope, job: MakeJob, props: Mapping[str, Any], prop: str) -> None:
    """``job`` with ``props`` (a ``role`` given as its ARN) raises a ValueError naming ``prop``."""
    if isinstance(props.get("role"), str):
        props = {**props, "role": iam.Role.from_role_arn(scope.stack, scope.new_id("R"), props["role"], mutable=False)}
    with pytest.raises(ValueError, match=re.escape(f"- {prop}")):
        job(scope, **props)(scope.new_id())


def token_props(scope: Scope, prop: str, value: str) -> dict[str, Any]:
    """The props that give ``prop`` the token ``value``: a role of that ARN, a tag of that key or
    value, else the prop itself."""
    if prop == "role":
        return {"role": iam.Role.from_role_arn(scope.stack, scope.new_id("R"), value, mutable=False)}
    if prop == "tag key":
        return {"tags": {value: "v"}}
    if prop == "tag value":
        return {"tags": {"k": value}}
    return {prop: value}


def check_token_passes(
    scope: Scope,
    job: MakeJob,
    prop: str,
    kind: str,
    props_for: Callable[[Scope, str, str], dict[str, Any]] = token_props,
) -> None:
    """A token (``token(kind, ...)``) given to ``prop`` (through ``props_for``) passes, unchecked,
    into the job's request."""
    name = f"{prop.title().replace(' ', '')}{kind.title()}"
    made = job(scope, **props_for(scope, prop, token(kind, name)))(scope.new_id())
    assert passed_through(made, kind, name)


def imported(scope: Scope, bucket: str = "my-exports", key_arn: str | None = None) -> ExportDestination:
    """An ExportDestination of an existing bucket (and key); rejects the example when CDK itself
    refuses them."""
    n = scope.new_id("D")
    try:
        b = s3.Bucket.from_bucket_name(scope.stack, f"{n}Bucket", bucket)
        k = kms.Key.from_key_arn(scope.stack, f"{n}Key", key_arn) if key_arn is not None else None
    except RuntimeError:  # CDK's own checks refuse it: not the construct's input
        assume(False)
        raise
    return ExportDestination(scope.stack, n, bucket=b, encryption_key=k)


# -- the props every job shares (on Personalize's construct; each service's own module covers
# its own prefix limits) --------------------------------------------------------------------------

DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS"


scope = module_scope("BadInputCommon")


@PROPERTY
@given(timeouts)
@example(("minutes", 50))
@example(("millis", 60_500))  # not whole seconds
@example(("seconds", 59))
def test_timeout(scope: Scope, unit_amount: tuple[str, int]) -> None:
    timeout = duration(unit_amount)
    ok = accepted(
        scope,
        lambda cid: PersonalizeDatasetExportJob(
            scope.stack, cid, dataset_arn=DATASET, destination=scope.destination, timeout=timeout
        ),
        ["timeout"],
    )
    assert ok == timeout_ok(unit_amount)


def test_timeout_strategy_reaches_both() -> None:
    reaches_both(timeouts, timeout_ok)


def test_a_timeout_of_fractional_seconds_is_a_value_error(scope: Scope) -> None:
    """Regression: ``Duration.to_seconds()`` refuses fractional seconds with a jsii error, which
    escaped before the construct's own "whole number of seconds" check could report it."""
    with pytest.raises(ValueError, match=r"timeout: must be a whole number of seconds"):
        PersonalizeDatasetExportJob(
            scope.stack,
            scope.new_id(),
            dataset_arn=DATASET,
            destination=scope.destination,
            timeout=cdk.Duration.millis(60_500),
        )


def test_a_timeout_token_is_a_value_error(scope: Scope) -> None:
    """Regression: a token timeout passed validation and became a garbage ``TimeoutSeconds``
    (the token's encoded number): the timeout decides at synth how the stack waits."""
    token = cdk.Duration.seconds(cdk.Token.as_number(cdk.Fn.ref("T")))
    with pytest.raises(ValueError, match=r"timeout: must be known at synth"):
        PersonalizeDatasetExportJob(
            scope.stack, scope.new_id(), dataset_arn=DATASET, destination=scope.destination, timeout=token
        )


@PROPERTY
@given(prefixes(187, 512))
@example("personalize/users/")
@example("")
@example("a\r/")  # a line break
def test_prefix(scope: Scope, prefix: str) -> None:
    ok = accepted(
        scope,
        lambda cid: PersonalizeDatasetExportJob(
            scope.stack, cid, dataset_arn=DATASET, destination=scope.destination, prefix=prefix
        ),
        ["prefix"],
    )
    # Personalize's path is at most 256: "s3://" + a bucket name of up to 63 + "/" + prefix.
    assert ok == prefix_ok(prefix, max_len=256 - len("s3://") - 63 - 1)


def test_prefix_strategy_reaches_both() -> None:
    reaches_both(prefixes(187), lambda v: prefix_ok(v, 187))


def test_a_prefix_with_a_line_break_is_refused(scope: Scope) -> None:
    """Regression: a prefix holding a line break passed, but no service's S3 path admits one."""
    for prefix in ["a\n/", "a\r/", "a\u2028b/"]:
        with pytest.raises(ValueError, match=r"prefix: must not contain line breaks"):
            PersonalizeDatasetExportJob(
                scope.stack, scope.new_id(), dataset_arn=DATASET, destination=scope.destination, prefix=prefix
            )


# -- ExportDestination ----------------------------------------------------------------------------


@settings(PROPERTY, max_examples=12)
@given(bucket=st.booleans(), key=st.booleans(), logs=st.booleans())
def test_export_destination(scope: Scope, bucket: bool, key: bool, logs: bool) -> None:
    """Its one rule: ``server_access_logs_bucket`` applies only to a bucket it creates."""
    stack = scope.stack
    n = scope.new_id("D")
    path = f"{stack.node.path}/{n}"
    kwargs: dict[str, object] = {}
    if bucket:
        kwargs["bucket"] = s3.Bucket.from_bucket_name(stack, f"{n}Bucket", "my-exports")
    if key:
        kwargs["encryption_key"] = kms.Key.from_key_arn(
            stack, f"{n}Key", "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d"
        )
    if logs:
        kwargs["server_access_logs_bucket"] = s3.Bucket.from_bucket_name(stack, f"{n}Logs", "my-logs")
    try:
        ExportDestination(stack, n, **kwargs)  # type: ignore[arg-type]
    except ValueError as error:
        expected = f"{path}: invalid props:\n  - server_access_logs_bucket: applies only to a new"
        assert str(error).startswith(expected), error
        assert bucket and logs
    else:
        assert not (bucket and logs)
