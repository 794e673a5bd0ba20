"""What ``test_fuzz.py`` draws: plans of stacks with one export job (or a provider, or many jobs),
as plain data, so hypothesis can print and shrink them and ``find`` can show what they reach
without starting jsii.

Every drawn prop is a :class:`Drawn`: its symbolic value and its class, decided by how it was
drawn:

- ``valid``: the construct must take it (its docstring's rule, the service's API, or a token
  standing for such a value);
- ``invalid``: a documented rule refuses it: the construct must raise, naming a prop;
- ``odd``: anything else (odd strings, near misses, other stacks' resources): either refused,
  naming the prop, or accepted with a sound template.

Where a limit comes from botocore's model it is read from the model, not copied.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any, Literal, TypeVar

import botocore.loaders
import botocore.session
from hypothesis import strategies as st

T = TypeVar("T")
Cls = Literal["valid", "invalid", "odd"]

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "eu-west-1"
OTHER_REGION = "us-east-1"

# -- botocore's models: the API members each prop maps to ---------------------------------------


@cache
def member(service: str, operation: str, path: str) -> Mapping[str, Any]:
    """The metadata (``min``, ``max``, ``pattern``, ``enum``) of an input member of an operation,
    ``path`` dotted (``jobOutput.s3DataDestination.path``; ``tags[]`` for a list's member)."""
    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    for name in path.split("."):
        if name.endswith("[]"):
            shape = shape.members[name[:-2]].member
        else:
            shape = shape.members[name]
    metadata: Mapping[str, Any] = shape.metadata
    return metadata


def limit(service: str, operation: str, path: str, key: str) -> int:
    return int(member(service, operation, path)[key])


def _shape(service: str, name: str) -> Mapping[str, Any]:
    metadata: Mapping[str, Any] = botocore.session.get_session().get_service_model(service).shape_for(name).metadata
    return metadata


def iam_pattern(shape: str) -> str:
    """An IAM shape's pattern (Java's ``\\uXXXX`` escapes are Python's too)."""
    return str(_shape("iam", shape)["pattern"])


def iam_max(shape: str) -> int:
    return int(_shape("iam", shape)["max"])


def kms_max(shape: str) -> int:
    return int(_shape("kms", shape)["max"])


@cache
def partitions() -> dict[str, str]:
    """botocore's partitions (``aws``, ``aws-cn``...) and their Regions' pattern."""
    data = botocore.loaders.create_loader().load_data("endpoints")
    return {p["partition"]: p["regionRegex"] for p in data["partitions"]}


def partition_of(region: str) -> str:
    for name, regex in partitions().items():
        if re.match(regex, region):
            return name
    return "aws"


# -- symbolic values --------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """``CfnParameter(type="String", default=...).value_as_string``: deployed with its default."""

    default: str


@dataclass(frozen=True)
class AsString:
    """``Token.as_string(CfnParameter(default=...).value)``."""

    default: str


@dataclass(frozen=True)
class LazyString:
    """``Lazy.string`` producing ``value`` at synth."""

    value: str


@dataclass(frozen=True)
class NumberParam:
    """``CfnParameter(type="Number", default=...).value_as_number``."""

    default: float


@dataclass(frozen=True)
class ListParam:
    """``CfnParameter(type="CommaDelimitedList", default=...).value_as_list``."""

    default: tuple[str, ...]


@dataclass(frozen=True)
class StackField:
    """``stack.account``, ``stack.region`` or ``stack.partition``: a token in an env-agnostic stack."""

    name: Literal["account", "region", "partition"]


@dataclass(frozen=True)
class Joined:
    """The parts (strings and string tokens) joined into one string."""

    parts: tuple[object, ...]


@dataclass(frozen=True)
class Dur:
    """``Duration.<unit>(amount)``; ``amount`` may be a :class:`NumberParam`."""

    unit: str
    amount: object


@dataclass(frozen=True)
class RolePlan:
    """A user's role: ``new`` (an ``iam.Role`` of the job's stack trusting the service),
    ``arn`` (``Role.from_role_arn`` in the job's stack), or an ``iam.Role`` of another stack
    (``other stack``: same env; ``other Region``)."""

    how: Literal["new", "arn", "other stack", "other Region"]
    arn: object = None
    mutable: bool = True


@dataclass(frozen=True)
class BucketPlan:
    """A user's bucket: ``new`` (an ``s3.Bucket``), ``name`` (``from_bucket_name``) or
    ``attributes`` (``from_bucket_attributes`` with ``region``)."""

    how: Literal["new", "name", "attributes"]
    name: object = "my-exports"
    region: str | None = None


@dataclass(frozen=True)
class KeyPlan:
    how: Literal["new", "arn"]
    arn: str = ""


@dataclass(frozen=True)
class LogGroupPlan:
    """An ``ILogGroup``: ``new`` (a ``logs.LogGroup``), ``name`` or ``arn`` (imported)."""

    how: Literal["new", "name", "arn"]
    value: str = ""


@dataclass(frozen=True)
class EnvPlan:
    name: str
    account: str | None
    region: str | None

    @property
    def partition(self) -> str | None:
        return partition_of(self.region) if self.region else None


ENV = EnvPlan(REGION, ACCOUNT, REGION)
AGNOSTIC = EnvPlan("env-agnostic", None, None)
ENVS = [ENV, AGNOSTIC, EnvPlan("account only", ACCOUNT, None), EnvPlan("cn-north-1", ACCOUNT, "cn-north-1")]


@dataclass(frozen=True)
class Drawn:
    value: object
    cls: Cls


@dataclass(frozen=True)
class DestinationPlan:
    """The ``ExportDestination``: in the job's stack (``same``) or another one, with its props."""

    id: str = "Dest"
    stack: Literal["same", "other stack", "other Region"] = "same"
    props: Mapping[str, Drawn] = field(default_factory=dict)

    def supports(self, service: str, env: EnvPlan) -> Cls:
        """Whether ``service``'s job (in a stack of ``env``) may write into it: odd in another
        stack; invalid where a service's documentation refuses the bucket."""
        if self.stack != "same":
            return "odd"
        bucket = self.props.get("bucket")
        key = self.props.get("encryption_key")
        plan = bucket.value if bucket is not None else None
        region = plan.region if isinstance(plan, BucketPlan) else None
        if region is not None and region != env.region and service in ("Rds", "CloudWatchLogs"):
            # "The bucket must be in the same Amazon Web Services Region" (CloudWatch Logs,
            # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html);
            # "The Amazon S3 bucket must be in the same AWS Region as the snapshot" (RDS,
            # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ExportSnapshot.html).
            # Where the stack's Region is known only at deployment, that is for it to tell.
            return "invalid" if env.region is not None else "odd"
        if service == "Rds" and plan is not None and (key is None or key.value is None):
            return "invalid"  # the docstring: "It must have a KMS key"
        has_key = (key is not None and key.value is not None) or (key is None and plan is None)
        if service == "Forecast" and has_key and env.partition not in (None, "aws"):
            # The docstring: Forecast's KMSKeyArn takes keys of the aws partition only, so a
            # destination with a key (its own, made with its bucket, or one given) is refused in
            # a stack of another partition.
            return "invalid"
        if service == "Forecast" and key is not None and isinstance(key.value, KeyPlan) and key.value.how == "arn":
            # botocore's S3Config.KMSKeyArn takes keys of the aws partition only.
            pattern = member("forecast", "CreateForecastExportJob", "Destination.S3Config.KMSKeyArn")["pattern"]
            if not re.fullmatch(pattern, key.value.arn):
                return "invalid"
        return "valid"


@dataclass(frozen=True)
class JobPlan:
    """One export job in a stack of ``env``, under ``scopes`` (nested construct ids)."""

    service: str
    env: EnvPlan
    destination: DestinationPlan
    props: Mapping[str, Drawn]
    id: str = "Job"
    scopes: tuple[str, ...] = ()

    @property
    def env_cls(self) -> Cls:
        # RoboMaker: "a stack whose Region is in another partition ... fails at synth" (docstring).
        if self.service == "RoboMaker" and self.env.partition not in (None, "aws"):
            return "invalid"
        return "valid"


# -- classes ------------------------------------------------------------------------------------


def worst(*classes: Cls) -> Cls:
    """A whole of parts: invalid if any part is, else odd if any part is."""
    if "invalid" in classes:
        return "invalid"
    return "odd" if "odd" in classes else "valid"


# flatmap to st.just: hypothesis then prints a failing plan's values as Drawn(value=..., cls=...).


def drawn(strategy: st.SearchStrategy[object], cls: Cls) -> st.SearchStrategy[Drawn]:
    return strategy.flatmap(lambda v: st.just(Drawn(v, cls)))


def judged(strategy: st.SearchStrategy[T], judge: Callable[[T], Cls]) -> st.SearchStrategy[Drawn]:
    return strategy.flatmap(lambda v: st.just(Drawn(v, judge(v))))


# -- strings ----------------------------------------------------------------------------------

ALNUM = string.ascii_letters + string.digits
LINE_BREAKS = "\n\r\x85\u2028\u2029"
#: What trips up patterns, JSON, IAM and cdk-nag: brackets (cdk-nag's finding ids), wildcards
#: (IAM), separators, control characters, line terminators, non-Latin-1 text (IAM's documents
#: take U+0009, U+000A, U+000D and U+0020-U+00FF only), look-alike digits and letters.
ODD_CHARS = (
    "()[]{}*?/\\:#|$%&'\"<>,;= \t\x00\x01\x1b\x7f" + LINE_BREAKS + "é\u00a0\u0661\u017f\u212a目的地\U0001f600\u200b"
)
ODD_STRINGS = [
    "",
    " ",
    "*",
    "?",
    "//",
    "/",
    "a)",
    "(a",
    "[x",
    "x]",
    "{}",
    "}",
    "${x}",
    "$",
    "|#|",
    "..",
    "\n",
    "\x00",
    "目的地",
    "données",
    "\U0001f600",
    "aws:x",
    "Default",
    "Resource",
]


def _no_token(value: str) -> bool:
    # A "${Token[...]}" string is CDK's, not the user's: CDK refuses one it did not issue.
    return "{Token[" not in value and "Token[" not in value


def odd_text(max_size: int = 30) -> st.SearchStrategy[str]:
    """Any text: odd characters, odd strings, arbitrary Unicode, very long."""
    return st.one_of(
        st.sampled_from(ODD_STRINGS),
        st.text(alphabet=ODD_CHARS + "ab1-_.", max_size=max_size),
        st.text(max_size=max_size),
        st.builds(lambda s, n: (s * n)[:n], st.text(min_size=1, max_size=6), st.integers(200, 2000)),
    ).filter(_no_token)


def mutate(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid value with an odd character inserted, replaced or deleted, a piece doubled, or an
    odd string added at one end."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        value = draw(valid)
        i = draw(st.integers(0, len(value)))
        char = draw(st.sampled_from(ODD_CHARS))
        how = draw(st.sampled_from(["insert", "replace", "delete", "double", "prepend", "append"]))
        if how == "insert":
            return value[:i] + char + value[i:]
        if how == "replace":
            return value[:i] + char + value[i + 1 :]
        if how == "delete":
            return value[:i] + value[i + 1 :]
        if how == "double":
            return value[:i] + value[i:] * 2
        odd = draw(st.sampled_from(ODD_STRINGS))
        return odd + value if how == "prepend" else value + odd

    return build().filter(_no_token)


def word(alphabet: str = ALNUM, min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


def string_tokens(valid: st.SearchStrategy[str]) -> st.SearchStrategy[object]:
    """Tokens standing for a valid value: a parameter's, ``Token.as_string``, ``Lazy.string``."""
    return st.one_of(valid.map(Param), valid.map(AsString), valid.map(LazyString))


def text_prop(
    valid: st.SearchStrategy[str], judge: Callable[[str], Cls], *extra: st.SearchStrategy[str]
) -> st.SearchStrategy[Drawn]:
    """A string prop: valid values, tokens of them, and near misses and odd text as ``judge``
    classes them (``judge`` gets only strings that are no token)."""
    return st.one_of(
        drawn(valid, "valid"),
        drawn(string_tokens(valid), "valid"),
        judged(st.one_of(mutate(valid), odd_text(), *extra), judge),
    )


#: Wrong types for a string prop; each is refused (PropTypeError).
WRONG_FOR_STR: list[object] = [1, 1.5, True, b"x", ["x"], {"x": "y"}, Dur("minutes", 1)]


def wrong_types(values: Sequence[object]) -> st.SearchStrategy[Drawn]:
    return drawn(st.sampled_from(list(values)), "invalid")


# -- ids and paths ------------------------------------------------------------------------------

#: Ids the test's own constructs have in the job's stack.
RESERVED_IDS = {"Dest", "ExportJobProvider", "UserRole", "UserBucket", "UserKey", "AccessLogs", "Group", "Placeholder"}


def construct_ids() -> st.SearchStrategy[str]:
    """Plain ids, and odd ones CDK itself takes (anything but empty; "/" becomes "--")."""
    return (
        st.one_of(word(string.ascii_letters, max_size=10), odd_text(), mutate(word()))
        .filter(lambda i: i != "" and i not in RESERVED_IDS and not i.startswith("Fuzz"))
        .filter(_no_token)
    )


def plain_id(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,15}", value))


# -- ARNs ---------------------------------------------------------------------------------------

#: A partition that no Region has.
BOGUS_PARTITION = "aws-bogus"


@st.composite
def arn_of(draw: st.DrawFn, env: EnvPlan, service: str, resource: str) -> object:
    """A valid ARN of ``resource`` in the stack's own account and Region: their literal values,
    or the stack's tokens (``stack.account``...), which an env-agnostic stack resolves at deploy
    time."""

    as_token = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))

    def part(i: int, name: Literal["account", "region", "partition"], known: str | None, plausible: str) -> object:
        if as_token[i]:
            return StackField(name)
        return known if known is not None else plausible

    fields: list[object] = [
        "arn:",
        part(0, "partition", env.partition, "aws"),
        f":{service}:",
        part(1, "region", env.region, REGION),
        ":",
        part(2, "account", env.account, ACCOUNT),
        ":" + resource,
    ]
    if all(isinstance(f, str) for f in fields):
        return "".join(str(f) for f in fields)
    return Joined(tuple(fields))


@st.composite
def misplaced_arn(draw: st.DrawFn, env: EnvPlan, service: str, resource: str) -> tuple[str, Cls]:
    """An ARN whose partition, Region or account is not the stack's (invalid where the stack's is
    known: the docstrings' "of the stack's account and Region"), a bogus partition (invalid
    anywhere), or a wildcard in a field (invalid: a source is one resource)."""
    partition, region, account = env.partition or "aws", env.region or REGION, env.account or ACCOUNT
    what = draw(st.sampled_from(["partition", "region", "account", "bogus", "wildcard"]))
    if what == "partition":
        other = draw(st.sampled_from([p for p in partitions() if p != partition]))
        return f"arn:{other}:{service}:{region}:{account}:{resource}", "invalid" if env.region else "odd"
    if what == "region":
        return f"arn:{partition}:{service}:{OTHER_REGION}:{account}:{resource}", "invalid" if env.region else "odd"
    if what == "account":
        return f"arn:{partition}:{service}:{region}:{OTHER_ACCOUNT}:{resource}", "invalid" if env.account else "odd"
    if what == "bogus":
        return f"arn:{BOGUS_PARTITION}:{service}:{region}:{account}:{resource}", "invalid"
    star = draw(st.sampled_from(["*", "?"]))
    head = [partition, service, region, account]
    head[draw(st.sampled_from([0, 2, 3]))] = star
    return "arn:" + ":".join(head) + ":" + resource, "invalid"


def source_arns(
    env: EnvPlan,
    service: str,
    valid_resource: st.SearchStrategy[str],
    wrong_resource: st.SearchStrategy[str],
    *,
    max_len: int | None,
    judge: Callable[[str], Cls],
) -> st.SearchStrategy[Drawn]:
    """A source's ARN (a dataset, forecast, world or snapshot): valid ones and tokens of them;
    invalid ones (another env, a wildcard, another resource type, ``arn:x``, over ``max_len``);
    near misses and odd text as ``judge`` classes them."""
    valid = valid_resource.flatmap(lambda r: arn_of(env, service, r))
    plain = valid_resource.map(lambda r: f"arn:{env.partition or 'aws'}:{service}:{env.region or REGION}:{ACCOUNT}:{r}")
    too_long = plain.map(lambda a: a + "x" * ((max_len or 0) + 1 - len(a)))
    return st.one_of(
        drawn(valid, "valid"),
        drawn(string_tokens(plain), "valid"),
        valid_resource.flatmap(lambda r: misplaced_arn(env, service, r)).map(lambda v: Drawn(v[0], v[1])),
        drawn(wrong_resource.flatmap(lambda r: arn_of(env, service, r)), "invalid"),
        drawn(st.sampled_from(["arn:x", "arn:", "arn:aws", f"arn:aws:{service}", "*"]), "invalid"),
        drawn(too_long, "invalid") if max_len is not None else judged(too_long, judge),
        judged(st.one_of(mutate(plain), odd_text()), judge),
        wrong_types(WRONG_FOR_STR),
    )


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


# -- roles --------------------------------------------------------------------------------------


@st.composite
def roles(draw: st.DrawFn, env: EnvPlan, *, max_len: int, partition_only: str | None = None) -> Drawn:
    """``role``: none, a new role, an imported one (valid ARNs of the stack's account, tokens,
    another account's, odd ones), another stack's, or a wrong type."""
    name = word(ALNUM + "+=,.@_-", max_size=20)
    path = st.lists(word(ALNUM + "_-", max_size=6), max_size=2).map(lambda ps: "".join(p + "/" for p in ps))
    valid_partition = env.partition or "aws"
    if partition_only is not None and valid_partition != partition_only:
        valid_partition = partition_only
    valid_arn = st.builds(lambda p, n: f"arn:{valid_partition}:iam::{env.account or ACCOUNT}:role/{p}{n}", path, name)
    how = draw(st.sampled_from(["none", "new", "arn", "token", "other account", "odd", "other stack", "wrong"]))
    if how == "none":
        return Drawn(None, "valid")
    if how == "new":
        return Drawn(RolePlan("new"), "valid")
    if how == "arn":
        arn = draw(valid_arn)
        return Drawn(RolePlan("arn", arn, draw(st.booleans())), "valid" if len(arn) <= max_len else "invalid")
    if how == "token":
        return Drawn(RolePlan("arn", draw(string_tokens(valid_arn)), draw(st.booleans())), "valid")
    if how == "other account":
        arn = f"arn:{valid_partition}:iam::{OTHER_ACCOUNT}:role/{draw(name)}"
        return Drawn(RolePlan("arn", arn), "invalid" if env.account else "odd")
    if how == "odd":
        # Odd parts in an ARN CDK can still parse (arn:<partition>:iam::<account>:role/<name>).
        part = draw(st.sampled_from([*partitions(), BOGUS_PARTITION, "AWS", "a*"]))
        account = draw(st.sampled_from([env.account or ACCOUNT, "*", "12345678901", "1111222233334"]))
        rest = draw(st.one_of(name, mutate(name), odd_text().filter(lambda s: s != "")))
        arn = f"arn:{part}:iam::{account}:role/{rest}"
        cls: Cls = "odd"
        if partition_only is not None and part != partition_only:
            cls = "invalid"  # RoboMaker: "arn:aws:iam::<account>:role/..." (docstring)
        elif len(arn) > max_len:
            cls = "invalid"
        return Drawn(RolePlan("arn", arn, draw(st.booleans())), cls)
    if how == "other stack":
        return Drawn(RolePlan(draw(st.sampled_from(["other stack", "other Region"]))), "odd")
    return Drawn(draw(st.sampled_from(["arn:aws:iam::111122223333:role/x", Dur("minutes", 1), 1])), "invalid")


# -- prefixes, timeouts, tags -------------------------------------------------------------------

#: The library's own cap on a prefix (documented in the docstrings' rules, 512).
MAX_PREFIX = 512


def folders(min_parts: int = 0) -> st.SearchStrategy[str]:
    """Plain folders: names of letters, digits and ``_ = -`` (a ``.`` inside), each ending in "/"."""
    name = st.builds(lambda a, b: a + b, word(ALNUM + "_=-", max_size=8), st.sampled_from(["", ".x", ".csv"]))
    return st.lists(name, min_size=min_parts, max_size=4).map(lambda ps: "".join(p + "/" for p in ps))


def prefixes(service: str) -> st.SearchStrategy[Drawn]:
    """``prefix``: plain folders (the empty prefix too, but where a docstring refuses it),
    tokens, the documented refusals (a leading "/", no final "/", line breaks, over 512), and odd
    text: brackets, wildcards, "//", Unicode, control characters."""
    empty_ok = service not in ("Pinpoint", "CloudWatchLogs")  # "not empty" (their docstrings)
    valid = folders(0 if empty_ok else 1)

    def judge(value: str) -> Cls:
        if value == "":
            return "valid" if empty_ok else "invalid"
        if value.startswith("/") or not value.endswith("/") or len(value) > MAX_PREFIX:
            return "invalid"  # "ending in /" (docstrings), and the library's cap
        if any(c in LINE_BREAKS for c in value):
            return "invalid"  # no service's S3 path pattern admits a line break
        return "odd"

    long = st.integers(MAX_PREFIX - 1, MAX_PREFIX + 1).map(lambda n: "p" * (n - 1) + "/")
    bracketed = st.builds(lambda f, b: f + b + "/", folders(1), st.sampled_from(["(", ")", "[", "]", "{", "}", "a)b"]))
    return st.one_of(
        drawn(st.just(None), "valid"),
        drawn(valid.filter(lambda p: p != "" or empty_ok), "valid"),
        drawn(string_tokens(folders(1)), "valid"),
        judged(st.one_of(mutate(valid), odd_text(), long, bracketed, valid.map(lambda p: p + "/")), judge),
        wrong_types([1, b"a/", ["a/"]]),
    )


def timeouts() -> st.SearchStrategy[Drawn]:
    """``timeout``: 1 minute to 12 hours (docstrings), in any unit; around the limits;
    fractions (odd: whole seconds are not documented); tokens (odd: the wait is decided at
    synth); wrong types."""

    def judge(d: Dur) -> Cls:
        ms = float(d.amount) * UNITS[d.unit]  # type: ignore[arg-type]
        if not 60_000 <= ms <= 43_200_000:
            return "invalid"
        return "valid" if ms % 1000 == 0 else "odd"

    plain = st.one_of(
        st.builds(Dur, st.just("seconds"), st.sampled_from([0, 59, 60, 61, 3300, 3301, 43_199, 43_200, 43_201])),
        st.builds(Dur, st.sampled_from(list(UNITS)), st.integers(0, 2000)),
        st.builds(Dur, st.just("millis"), st.sampled_from([59_999.5, 60_000.5, 1.5, 43_200_000])),
        st.builds(Dur, st.just("seconds"), st.sampled_from([60.5, 3599.9])),
    )
    return st.one_of(
        drawn(st.just(None), "valid"),
        judged(plain, judge),
        drawn(st.builds(Dur, st.sampled_from(["minutes", "hours"]), st.builds(NumberParam, st.just(5.0))), "odd"),
        wrong_types([60, "1 hour", timedelta(minutes=5)]),
    )


UNITS: dict[str, float] = {"millis": 1, "seconds": 1000, "minutes": 60_000, "hours": 3_600_000, "days": 86_400_000}


def unicode_tag_char(c: str) -> bool:
    """botocore's tag pattern ``^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`` (Personalize, Forecast)."""
    return unicodedata.category(c)[0] in "LZN" or c in "_.:/=+-@"


def ascii_tag_char(c: str) -> bool:
    """RoboMaker's ``[a-zA-Z0-9 _.\\-\\/+=:]`` (its docstring)."""
    return c in ALNUM + " _.-/+=:"


def tags(max_count: int, char_ok: Callable[[str], bool]) -> st.SearchStrategy[Drawn]:
    """``tags``: at most ``max_count``; key 1-128 and value 0-256 characters, each ``char_ok``;
    no ``aws:`` key (AWS's tagging rules, e.g. Personalize's
    https://docs.aws.amazon.com/personalize/latest/dg/personalize-managing-tags.html).
    Token values stand for valid ones; a token key is odd (valid or refused)."""

    def key_cls(k: str) -> Cls:
        ok = 1 <= len(k) <= 128 and all(map(char_ok, k)) and k[:4].lower() != "aws:"
        return "valid" if ok else "invalid"

    def value_cls(v: str) -> Cls:
        return "valid" if len(v) <= 256 and all(map(char_ok, v)) else "invalid"

    keys = st.one_of(word(ALNUM + " _.:/=+-@", max_size=20), mutate(word()), odd_text(), st.just("k" * 129))
    values = st.one_of(
        word(ALNUM + " _.:/=+-@", min_size=0, max_size=20), mutate(word()), odd_text(), st.just("v" * 257)
    )

    @st.composite
    def build(draw: st.DrawFn) -> Drawn:
        how = draw(st.sampled_from(["none", "few", "many", "token", "wrong"]))
        if how == "none":
            return Drawn(None, "valid")
        if how == "wrong":
            return Drawn(draw(st.sampled_from([[("k", "v")], {"k": 1}, {1: "v"}, "k=v"])), "invalid")
        if how == "many":
            n = draw(st.sampled_from([max_count - 1, max_count, max_count + 1, 2 * max_count + 1]))
            return Drawn({f"t{i}": "v" for i in range(n)}, "valid" if n <= max_count else "invalid")
        entries = draw(st.dictionaries(keys, values, max_size=4))
        cls = worst(*(key_cls(k) for k in entries), *(value_cls(v) for v in entries.values()))
        mapping: dict[object, object] = {}
        mapping.update(entries)
        if how == "token":
            if draw(st.booleans()):
                mapping[Param("team")] = draw(values.filter(lambda v: value_cls(v) == "valid"))
                cls = worst(cls, "odd")
            else:
                mapping["team"] = draw(string_tokens(st.just("ml-platform")))
        return Drawn(mapping, cls)

    return build()


def booleans() -> st.SearchStrategy[Drawn]:
    return st.one_of(drawn(st.sampled_from([None, True, False]), "valid"), wrong_types([1, "true", 0.0]))


# -- destinations -------------------------------------------------------------------------------

REMOVAL_POLICIES = ["RETAIN", "DESTROY", "RETAIN_ON_UPDATE_OR_DELETE", "SNAPSHOT"]


def bucket_names() -> st.SearchStrategy[object]:
    """Names ``s3.Bucket.from_bucket_name`` takes (CDK refuses others itself), and a token."""
    plain = st.builds(
        lambda a, b: a + b,
        st.sampled_from("abc019"),
        st.text(alphabet=string.ascii_lowercase + string.digits + "-.", min_size=2, max_size=20),
    ).filter(lambda n: n[-1] not in "-." and ".." not in n and ".-" not in n and "-." not in n)
    return st.one_of(plain, st.just("my-exports"), st.just(Param("my-exports")))


@st.composite
def destination_props(draw: st.DrawFn, env: EnvPlan, *, fuzz: bool) -> dict[str, Drawn]:
    """``ExportDestination``'s props: a new bucket (the default), the user's bucket (new,
    imported, of another Region) with or without a key; the removal policy; the access logs
    bucket (documented for a new bucket only). With ``fuzz`` off, only valid ones."""
    props: dict[str, Drawn] = {}
    if draw(st.booleans()):
        plan = draw(
            st.one_of(
                st.builds(BucketPlan, st.just("new")),
                st.builds(BucketPlan, st.just("name"), bucket_names()),
                st.builds(
                    BucketPlan, st.just("attributes"), bucket_names(), st.sampled_from([None, REGION, OTHER_REGION])
                ),
            )
        )
        props["bucket"] = Drawn(plan, "valid")
        if draw(st.booleans()):
            where = f"{env.partition or 'aws'}:kms:{env.region or REGION}:{env.account or ACCOUNT}"
            key = KeyPlan("arn", f"arn:{where}:key/1234abcd-12ab-34cd-56ef-1234567890ab")
            props["encryption_key"] = Drawn(draw(st.sampled_from([KeyPlan("new"), key])), "valid")
    if fuzz:
        policy = draw(st.sampled_from([None, *REMOVAL_POLICIES, "retain", 1]))
        if policy is not None:
            # SNAPSHOT: S3 buckets and KMS keys have no snapshot (CloudFormation's DeletionPolicy
            # for them is Delete, Retain or RetainExceptOnCreate); it is the policy of what the
            # destination makes, which is nothing for the user's own bucket.
            cls: Cls = "valid" if policy in REMOVAL_POLICIES[:3] else "invalid"
            if policy == "SNAPSHOT" and "bucket" in props:
                cls = "odd"
            props["removal_policy"] = Drawn(policy, cls)
        if draw(st.integers(0, 3)) == 0:
            # "where the new bucket's access logs go": a bucket of the user's takes none.
            props["server_access_logs_bucket"] = Drawn(BucketPlan("new"), "invalid" if "bucket" in props else "valid")
        if draw(st.integers(0, 5)) == 0:
            prop = draw(st.sampled_from(["bucket", "encryption_key", "server_access_logs_bucket"]))
            props[prop] = Drawn(draw(st.sampled_from(["my-exports", 1, Dur("days", 1)])), "invalid")
    return props


@st.composite
def destinations(draw: st.DrawFn, env: EnvPlan, *, fuzz: bool = False) -> DestinationPlan:
    where = draw(st.sampled_from(["same", "same", "same", "other stack", "other Region"])) if fuzz else "same"
    dest_id = draw(st.one_of(st.just("Dest"), construct_ids())) if fuzz else "Dest"
    props = draw(destination_props(env, fuzz=fuzz and where == "same"))
    return DestinationPlan(dest_id, where, props)  # type: ignore[arg-type]


# -- per service ----------------------------------------------------------------------------------

#: A construct's props: the required ones' strategies and the optional ones'.
PropSpace = tuple[dict[str, st.SearchStrategy[Drawn]], dict[str, st.SearchStrategy[Drawn]]]


def fullmatch(regex: str) -> Callable[[str], bool]:
    compiled = re.compile(regex, re.ASCII)
    return lambda v: compiled.fullmatch(v) is not None


def by_rule(ok: Callable[[str], bool]) -> Callable[[str], Cls]:
    return lambda v: "valid" if ok(v) else "invalid"


def personalize(env: EnvPlan) -> PropSpace:
    name_re = member("personalize", "CreateDatasetExportJob", "jobName")["pattern"].lstrip("^")
    name_max = limit("personalize", "CreateDatasetExportJob", "jobName", "max")
    job_name = word(ALNUM + "-_", max_size=name_max).filter(fullmatch(name_re))
    group = word(ALNUM + "-_", max_size=30).filter(fullmatch(name_re))
    kinds = st.sampled_from(["USERS", "ITEMS", "INTERACTIONS", "ACTIONS", "ACTION_INTERACTIONS"])
    dataset = st.builds(lambda g, k: f"dataset/{g}/{k}", group, kinds)
    wrong = st.one_of(
        group.map(lambda g: f"dataset-group/{g}"),  # "a dataset, not a dataset group" (docstring)
        st.sampled_from(["dataset/*", "dataset/shop/*", "dataset/shop/US?RS", "schema/x", "*"]),
    )
    modes = member("personalize", "CreateDatasetExportJob", "ingestionMode")["enum"]
    return (
        {
            "dataset_arn": source_arns(
                env,
                "personalize",
                dataset,
                wrong,
                max_len=limit("personalize", "CreateDatasetExportJob", "datasetArn", "max"),
                judge=lambda v: "invalid" if has_wildcard(v) else "odd",
            ),
        },
        {
            "prefix": prefixes("Personalize"),
            "ingestion_mode": text_prop(st.sampled_from(modes), by_rule(lambda v: v in modes)),
            "job_name": st.one_of(
                text_prop(job_name, by_rule(lambda v: len(v) <= name_max and fullmatch(name_re)(v))),
                drawn(st.just("j" * (name_max + 1)), "invalid"),
                wrong_types(WRONG_FOR_STR),
            ),
            "role": roles(env, max_len=limit("personalize", "CreateDatasetExportJob", "roleArn", "max")),
            # "A resource can have as many as 50 tags"
            # (https://docs.aws.amazon.com/personalize/latest/dg/tagging-resources.html).
            "tags": tags(50, unicode_tag_char),
            "timeout": timeouts(),
            "wait": booleans(),
        },
    )


def forecast(env: EnvPlan) -> PropSpace:
    name_re = member("forecast", "CreateForecastExportJob", "ForecastExportJobName")["pattern"].lstrip("^")
    name_max = limit("forecast", "CreateForecastExportJob", "ForecastExportJobName", "max")
    name = word(ALNUM + "_", max_size=30).filter(fullmatch(name_re))
    wrong = st.one_of(
        name.map(lambda n: f"predictor/{n}"),
        st.sampled_from(["forecast/*", "forecast/demand*", "forecast/d?mand", "*"]),
    )

    def arn_cls(value: str) -> Cls:
        # "at most 256 characters of [a-zA-Z0-9-_./:]" (docstring)
        if has_wildcard(value) or not re.fullmatch(r"[a-zA-Z0-9\-_./:]+", value):
            return "invalid"
        return "odd"

    formats = ["CSV", "PARQUET"]
    return (
        {
            "forecast_arn": source_arns(
                env,
                "forecast",
                name.map(lambda n: f"forecast/{n}"),
                wrong,
                max_len=limit("forecast", "CreateForecastExportJob", "ForecastArn", "max"),
                judge=arn_cls,
            ),
        },
        {
            "prefix": prefixes("Forecast"),
            "job_name": st.one_of(
                text_prop(name, by_rule(lambda v: len(v) <= name_max and fullmatch(name_re)(v))),
                drawn(st.just("j" * (name_max + 1)), "invalid"),
                wrong_types(WRONG_FOR_STR),
            ),
            "format": text_prop(st.sampled_from(formats), by_rule(lambda v: v in formats)),
            "role": roles(
                env, max_len=limit("forecast", "CreateForecastExportJob", "Destination.S3Config.RoleArn", "max")
            ),
            "tags": tags(50, unicode_tag_char),  # "at most 50" (docstring)
            "timeout": timeouts(),
            "wait": booleans(),
        },
    )


HEX = "0123456789abcdef"


def pinpoint(env: EnvPlan) -> PropSpace:
    app = word(HEX, min_size=32, max_size=32)
    return (
        {"application_id": text_prop(app, by_rule(fullmatch(r"[0-9a-fA-F]{32}")), word(HEX, max_size=40))},
        {
            "prefix": prefixes("Pinpoint"),
            "segment_id": st.one_of(
                drawn(app, "valid"),
                drawn(string_tokens(app), "valid"),
                judged(odd_text(), lambda v: "invalid" if v == "" else "odd"),
            ),
            # "an integer >= 1" (docstring), of 32 bits; "requires segment_id": see job_plans.
            "segment_version": st.one_of(
                drawn(st.sampled_from([1, 2, 2**31 - 1]), "valid"),
                drawn(st.builds(NumberParam, st.just(3.0)), "valid"),
                drawn(st.sampled_from([0, -1, 2**31]), "invalid"),
                wrong_types([1.5, "1", True]),
            ),
            "role": roles(env, max_len=2048),
            "timeout": timeouts(),
            "wait": booleans(),
        },
    )


def robomaker(env: EnvPlan) -> PropSpace:
    name = word(ALNUM + "-_", max_size=12)
    world = st.builds(lambda s, w: f"world/{s}/{w}", name, name)
    one = source_arns(
        env,
        "robomaker",
        world,
        st.one_of(name.map(lambda n: f"simulation-job/{n}"), st.sampled_from(["world/*", "world/sim/*", "*"])),
        max_len=1224,  # "each arn:... of at most 1,224 characters" (docstring)
        judge=lambda v: "invalid" if has_wildcard(v) or not v.startswith("arn:") else "odd",
    )

    @st.composite
    def worlds(draw: st.DrawFn) -> Drawn:
        how = draw(st.sampled_from(["list", "list", "token", "count", "wrong"]))
        if how == "token":
            return Drawn(ListParam((f"arn:aws:robomaker:{REGION}:{ACCOUNT}:world/sim/w1",)), "valid")
        if how == "count":  # "1-100" (docstring)
            n = draw(st.sampled_from([0, 100, 101]))
            arn = f"arn:aws:robomaker:{env.region or REGION}:{env.account or ACCOUNT}:world/sim/w"
            return Drawn([f"{arn}{i}" for i in range(n)], "valid" if 1 <= n <= 100 else "invalid")
        if how == "wrong":
            return Drawn(
                draw(st.sampled_from([f"arn:aws:robomaker:{REGION}:{ACCOUNT}:world/a/b", [1], None])), "invalid"
            )
        items = draw(st.lists(one, min_size=1, max_size=3))
        return Drawn([i.value for i in items], worst(*(i.cls for i in items)))

    return (
        {"worlds": worlds()},
        {
            "prefix": prefixes("RoboMaker"),
            # "arn:aws:iam::<account>:role/..., at most 255 characters" (docstring)
            "role": roles(env, max_len=255, partition_only="aws"),
            "tags": tags(50, ascii_tag_char),  # "at most 50 ... [a-zA-Z0-9 _.-/+=:]" (docstring)
            "timeout": timeouts(),
            "wait": booleans(),
        },
    )


def rds(env: EnvPlan) -> PropSpace:
    name = st.builds(
        lambda a, b: a + b, st.sampled_from("abcxyz"), word(string.ascii_lowercase + string.digits, max_size=20)
    )
    kinds = st.sampled_from(["snapshot", "cluster-snapshot", "cluster"])
    source = st.one_of(
        st.builds(lambda k, n: f"{k}:{n}", kinds, name),
        name.map(lambda n: f"snapshot:rds:{n}-2026-12-01-03-05"),  # an automated snapshot
    )
    wrong = st.one_of(name.map(lambda n: f"db:{n}"), st.sampled_from(["snapshot:*", "cluster:a?", "snapshot:", "*"]))
    # ExportTaskIdentifier: "1-60 letters, digits and hyphens, starting with a letter, neither
    # ending in a hyphen nor holding two in a row" (docstring).
    job_name_ok = fullmatch(r"[A-Za-z](?:-?[A-Za-z0-9])*")
    part = word(ALNUM + "_$", max_size=10)
    entry = st.lists(part, min_size=1, max_size=3).map(".".join)
    return (
        {
            "source_arn": source_arns(
                env, "rds", source, wrong, max_len=None, judge=lambda v: "invalid" if has_wildcard(v) else "odd"
            ),
        },
        {
            "prefix": prefixes("Rds"),
            "export_only": st.one_of(
                drawn(st.lists(entry, min_size=1, max_size=3, unique=True), "valid"),
                # An entry twice, or none at all (the docstring's "Default: everything" is unset).
                drawn(st.one_of(entry.map(lambda e: [e, e]), st.just([])), "odd"),
                drawn(st.just(ListParam(("shop", "shop.orders"))), "valid"),
                # "one to three non-empty names joined by dots" (docstring)
                drawn(
                    st.lists(st.sampled_from(["", "a..b", "a.b.c.d", ".a", "a."]), min_size=1, max_size=2), "invalid"
                ),
                judged(st.lists(odd_text(), min_size=1, max_size=2), lambda v: "odd"),
                wrong_types(["shop", [1]]),
            ),
            "job_name": st.one_of(
                text_prop(
                    word(ALNUM + "-", max_size=60).filter(job_name_ok),
                    by_rule(lambda v: len(v) <= 60 and job_name_ok(v)),
                ),
                drawn(st.just("j" * 61), "invalid"),
                wrong_types(WRONG_FOR_STR),
            ),
            "role": roles(env, max_len=2048),
            "timeout": timeouts(),
            "wait": booleans(),
        },
    )


#: CloudWatch Logs' CreateExportTask members.
LOGS = ("logs", "CreateExportTask")


def cloudwatch_logs(env: EnvPlan) -> PropSpace:
    group_max = limit(*LOGS, "logGroupName", "max")
    group_ok = fullmatch(member(*LOGS, "logGroupName")["pattern"])
    group_name = word(ALNUM + ".-_/#", max_size=30)

    def group_cls(v: str) -> Cls:
        return "valid" if 1 <= len(v) <= group_max and group_ok(v) else "invalid"

    partition, region, account = env.partition or "aws", env.region or REGION, env.account or ACCOUNT
    # "of the stack's account and Region" (docstring)
    group_arn = st.sampled_from(
        [
            (f"arn:{partition}:logs:{region}:{account}:log-group:app", "valid"),
            (f"arn:{partition}:logs:{OTHER_REGION}:{account}:log-group:app", "invalid" if env.region else "odd"),
            (f"arn:{partition}:logs:{region}:{OTHER_ACCOUNT}:log-group:app", "invalid" if env.account else "odd"),
        ]
    )
    log_group = st.one_of(
        text_prop(group_name, group_cls, st.just("g" * (group_max + 1))),
        drawn(st.builds(LogGroupPlan, st.just("new")), "valid"),
        drawn(st.builds(LogGroupPlan, st.just("name"), group_name), "valid"),
        group_arn.map(lambda a: Drawn(LogGroupPlan("arn", a[0]), a[1])),  # type: ignore[arg-type]
        wrong_types([1, ["app"], None]),
    )
    stream_max = limit(*LOGS, "logStreamNamePrefix", "max")
    stream_ok = re.compile(member(*LOGS, "logStreamNamePrefix")["pattern"])

    def stream_cls(v: str) -> Cls:
        return "valid" if 1 <= len(v) <= stream_max and stream_ok.fullmatch(v) else "invalid"

    task_max = limit(*LOGS, "taskName", "max")
    return (
        {"log_group": log_group},
        {
            "prefix": prefixes("CloudWatchLogs"),
            "log_stream_name_prefix": text_prop(word(ALNUM + "/-_.[]$", max_size=20), stream_cls),
            "job_name": st.one_of(
                text_prop(word(ALNUM + "-_. ", max_size=40), by_rule(lambda v: 1 <= len(v) <= task_max)),
                drawn(st.just("t" * (task_max + 1)), "invalid"),
                wrong_types(WRONG_FOR_STR),
            ),
            "timeout": timeouts(),
            "wait": booleans(),
        },
    )


#: The docstring's window: "between 1 millisecond and 50 years, whole milliseconds".
MAX_WINDOW_MS = 50 * 365 * 86_400_000


@st.composite
def time_ranges(draw: st.DrawFn) -> dict[str, Drawn]:
    """CloudWatch Logs' ``start``/``end`` or ``window`` (the docstring's rules)."""
    how = draw(st.sampled_from(["window", "window", "range", "both", "neither", "half"]))
    tz = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), None])
    moment = st.builds(
        lambda days, z: datetime(2026, 12, 1, tzinfo=z) + timedelta(days=days),
        st.integers(-25_000, 10),
        tz,
    )

    def window() -> Drawn:
        plain = st.one_of(
            st.builds(Dur, st.sampled_from(list(UNITS)), st.integers(0, 400)),
            st.builds(Dur, st.just("millis"), st.sampled_from([0, 1, 1.5, 0.5, MAX_WINDOW_MS, MAX_WINDOW_MS + 1])),
        )

        def cls(d: Dur) -> Cls:
            ms = float(d.amount) * UNITS[d.unit]  # type: ignore[arg-type]
            return "valid" if 1 <= ms <= MAX_WINDOW_MS and ms % 1 == 0 else "invalid"

        token = st.builds(Dur, st.sampled_from(["days", "hours", "millis"]), st.builds(NumberParam, st.just(1.0)))
        return draw(st.one_of(judged(plain, cls), drawn(token, "valid"), wrong_types([86_400_000, "1 day"])))

    if how in ("window", "both"):
        props = {"window": window()}
        if how == "both":
            props["start"] = Drawn(datetime(2026, 12, 1, tzinfo=UTC), "invalid")  # "instead of start/end"
        return props
    if how == "neither":
        return {}
    start, end = draw(moment), draw(moment)
    if how == "half":
        return {draw(st.sampled_from(["start", "end"])): Drawn(start, "invalid")}

    def naive(m: datetime) -> bool:
        return m.tzinfo is None

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    start_cls: Cls = "invalid" if naive(start) or start < epoch else "valid"
    end_cls: Cls = "invalid" if naive(end) or end < epoch else "valid"
    if start_cls == end_cls == "valid" and start >= end:
        end_cls = "invalid"  # "after start"
    return {"start": Drawn(start, start_cls), "end": Drawn(end, end_cls)}


def missing_time_range(props: Mapping[str, Drawn]) -> bool:
    return not any(p in props for p in ("start", "end", "window"))


SERVICES: dict[str, Callable[[EnvPlan], PropSpace]] = {
    "Personalize": personalize,
    "Forecast": forecast,
    "Pinpoint": pinpoint,
    "RoboMaker": robomaker,
    "Rds": rds,
    "CloudWatchLogs": cloudwatch_logs,
}


def valid(strategy: st.SearchStrategy[Drawn]) -> st.SearchStrategy[Drawn]:
    return strategy.filter(lambda d: d.cls == "valid")


@st.composite
def job_plans(draw: st.DrawFn, service: str, *, fuzz_destination: bool = False, mode: str | None = None) -> JobPlan:
    """One job of ``service`` in a drawn env, under drawn construct ids. Its inputs are all valid,
    or all valid but one (a prop, the id, the scopes, the destination) drawn from everything, or
    all drawn from everything: so that most examples reach the synthesized template, and a
    refusal points at one input."""
    mode = mode or draw(st.sampled_from(["valid", "one", "one", "all"]), label="mode")
    env = draw(st.sampled_from(ENVS))
    if mode == "valid" and service == "RoboMaker":
        env = draw(st.sampled_from(ENVS[:3]))  # the aws partition
    required, optional = SERVICES[service](env)
    names = [*required, *draw(st.lists(st.sampled_from(list(optional)), unique=True, max_size=len(optional)))]
    if service == "CloudWatchLogs":
        names.append("time range")
    focus = draw(st.sampled_from([*names, "id", "scopes", "destination"])) if mode == "one" else None
    strategies = {**required, **optional}
    props: dict[str, Drawn] = {}
    for name in names:
        whole = mode == "all" or name == focus
        if name == "time range":
            props.update(draw(time_ranges() if whole else time_ranges().filter(_valid_range)))
        else:
            props[name] = draw(strategies[name] if whole else valid(strategies[name]), label=name)
    if "segment_version" in props and "segment_id" not in props:  # "requires segment_id" (docstring)
        props["segment_version"] = Drawn(props["segment_version"].value, "invalid")
    fuzz = fuzz_destination or mode == "all" or focus == "destination"
    destination = draw(destinations(env, fuzz=fuzz))
    odd_scope = mode == "all" or focus == "scopes"
    scopes = tuple(draw(st.lists(construct_ids() if odd_scope else word(string.ascii_letters, max_size=8), max_size=3)))
    job_id = draw(construct_ids()) if mode == "all" or focus == "id" else "Job"
    if not scopes and job_id == destination.id:
        job_id += "Job"  # CDK refuses a second child of one id: not the library's input
    return JobPlan(service, env, destination, props, job_id, scopes)


def _valid_range(props: Mapping[str, Drawn]) -> bool:
    return bool(props) and all(d.cls == "valid" for d in props.values())


def valid_job(service: str, env: EnvPlan, index: int, *, named: bool = False) -> JobPlan:
    """Job ``index`` of ``service``, every prop valid (the many-jobs stacks): its own source (and
    job name, if ``named``), in the stack's own account and Region."""
    where = f"{env.partition or 'aws'}:{{service}}:{env.region or REGION}:{env.account or ACCOUNT}"
    every: dict[str, dict[str, object]] = {
        "Personalize": {"dataset_arn": f"arn:{where.format(service='personalize')}:dataset/shop{index}/USERS"},
        "Forecast": {"forecast_arn": f"arn:{where.format(service='forecast')}:forecast/demand{index}"},
        "Pinpoint": {"application_id": f"{index:032x}"},
        "RoboMaker": {"worlds": [f"arn:{where.format(service='robomaker')}:world/sim{index}/w"]},
        "Rds": {"source_arn": f"arn:{where.format(service='rds')}:snapshot:db{index}"},
        "CloudWatchLogs": {"log_group": f"/app/group{index}", "window": Dur("days", 1)},
    }
    props = every[service]
    if named and service in ("Personalize", "Forecast", "Rds", "CloudWatchLogs"):
        props["job_name"] = f"export{index}_{service}" if service != "Rds" else f"export{index}-rds"
    return JobPlan(
        service, env, DestinationPlan(), {k: Drawn(v, "valid") for k, v in props.items()}, f"{service}{index}"
    )


def max_concurrent() -> st.SearchStrategy[Drawn]:
    """``ExportJobProvider``'s ``max_concurrent``: per service, a whole number >= 1 or None."""
    names = st.sampled_from([*SERVICES, "forecast", "Other"])
    valid_value = st.one_of(st.none(), st.integers(1, 6))

    def cls(mapping: Mapping[object, object]) -> Cls:
        ok = all(
            isinstance(k, str) and (v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1))
            for k, v in mapping.items()
        )
        return "valid" if ok else "invalid"

    odd_value = st.sampled_from([0, -1, True, 1.5, "2"])
    return st.one_of(
        drawn(st.none(), "valid"),
        judged(st.dictionaries(names, st.one_of(valid_value, odd_value), max_size=4), cls),  # type: ignore[arg-type]
        drawn(st.sampled_from([{1: 2}, [("Rds", 1)], 3]), "invalid"),
    )
