"""Synth-time checks of where a job reads and writes, across the constructs of a stack: source
ARNs and roles in the stack's own account and Region, job names unique in the stack, and one
prefix of a destination per job (a warning).

Each check looks only at what is known at synth: a token (or a token field of an ARN) passes
unchecked, and an environment-agnostic stack's account and Region are tokens. Nothing here
resolves a token or a Lazy value (resolving a ``Lazy.list`` early would freeze it).
"""

from __future__ import annotations

import functools
import weakref

from aws_cdk import Annotations, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from ._memo import is_unresolved, partition_of, path_of, region_of, role_arn_of, stack_of
from ._text import wrap
from ._validation import Problems, _short

SHARED_PREFIX_ID = "export-constructs:shared-prefix"

#: stack -> (service, scope key, job name) -> the path of the job that has the name.
_JOB_NAMES: weakref.WeakKeyDictionary[Stack, dict[tuple[str, str, str], str]] = weakref.WeakKeyDictionary()
#: destination -> prefix -> the path of the first job writing under it.
_PREFIXES: weakref.WeakKeyDictionary[Construct, dict[str, str]] = weakref.WeakKeyDictionary()
#: stack -> ``stack.account`` (fixed when the stack is made).
_ACCOUNTS: weakref.WeakKeyDictionary[Stack, str] = weakref.WeakKeyDictionary()


def account_of(stack: Stack) -> str:
    """``stack.account``, looked up once per stack."""
    account = _ACCOUNTS.get(stack)
    if account is None:
        account = _ACCOUNTS[stack] = stack.account
    return account


def arn_fields(arn: object) -> list[str] | None:
    """``[arn, partition, service, region, account, resource]`` of an ARN-shaped string (six
    colon-separated parts, the resource may hold colons), else None. CDK's encoded tokens hold no
    colon, so a token stays within one field."""
    if not isinstance(arn, str):
        return None
    fields = arn.split(":", 5)
    return fields if len(fields) == 6 and fields[0] == "arn" else None


def _known(value: str) -> bool:
    return not is_unresolved(value)


def check_source_arn(problems: Problems, prop: str, arn: str, stack: Stack, *, service: str, what: str) -> None:
    """``arn`` (a source: a dataset, forecast or world) must be of the stack's Region and account,
    where both the ARN's field and the stack's value are known: the service reads its sources in
    the account and Region it runs in, and nowhere else.

    Args:
        problems: the construct's collector.
        prop: the prop, e.g. ``worlds[2]``.
        arn: its value.
        stack: the job's stack.
        service: the service's name for the message, e.g. ``Personalize``.
        what: the source's kind with its article, e.g. ``a dataset``.
    """
    if "*" in arn or "?" in arn:  # an encoded token holds neither
        problems.add(
            prop,
            f"must name one source, without '*' or '?': the handler's policy lists the sources, where they "
            f"would be wildcards letting it export other resources of the account, got {_short(arn)}",
        )
    fields = arn_fields(arn)
    if fields is None:
        if _known(arn) and arn.startswith("arn:"):  # what IAM would refuse as a policy's resource
            problems.add(
                prop,
                f"must be a whole ARN, arn:<partition>:<service>:<region>:<account>:<resource>, got {_short(arn)}",
            )
        return
    partition, region = fields[1], region_of(stack)
    if _known(partition) and partition not in known_partitions():
        problems.add(
            prop,
            f"must be an ARN of an AWS partition ({', '.join(sorted(known_partitions()))}), got partition "
            f"{partition!r} in {_short(arn)}",
        )
    elif _known(partition) and _known(region) and partition_of(region) not in (None, partition):
        problems.add(
            prop,
            f"must be {what} of this stack's partition {partition_of(region)} (Region {region}), got partition "
            f"{partition!r} in {_short(arn)}",
        )
    for label, given, expected in (
        ("Region", fields[3], region_of(stack)),
        ("account", fields[4], account_of(stack)),
    ):
        if _known(given) and _known(expected) and given != expected:
            problems.add(
                prop,
                f"must be {what} of this stack's {label} {expected}: {service} exports only from the account "
                f"and Region it runs in, got {label} {given!r} in {_short(arn)}",
            )


@functools.cache
def known_partitions() -> frozenset[str]:
    """The partitions of the Regions aws-cdk-lib knows (``aws``, ``aws-cn``, ``aws-us-gov``...)."""
    return frozenset(p for p in (r.partition for r in RegionInfo.regions) if p)


def check_role_account(problems: Problems, role: iam.IRole, stack: Stack, *, service: str) -> None:
    """A user's ``role`` must be of the stack's account, where both are known (the role ARN's
    account, or ``role.env.account`` when the ARN is a token): a role is passed to the service
    with ``iam:PassRole``, which passes no role of another account (Forecast documents the
    refusal: InvalidInputException). Nor may its ARN hold ``*`` or ``?``: the handler's
    ``iam:PassRole`` statement names it, where they would be wildcards matching other roles (no
    role name has them; IAM's path rule admits them)."""
    owning_stack = stack_of(role)
    if owning_stack is not stack:
        problems.add(
            "role",
            f"must be a role of this job's stack {stack.node.path} (or imported into it: "
            f"iam.Role.from_role_arn(self, ...)), got one of {owning_stack.node.path}: the job adds statements to the "
            "role's policy and the handler passes it, which would make the stacks refer to each other",
        )
    arn = role_arn_of(role)
    if not is_unresolved(arn) and ("*" in arn or "?" in arn):
        problems.add(
            "role",
            "must not contain '*' or '?': the handler's iam:PassRole statement names the role's ARN, where "
            f"they would be wildcards passing other roles too, got {_short(arn)}",
        )
    account = account_of(stack)
    if is_unresolved(account):
        return
    if is_unresolved(arn):
        owner = role.env.account
        shown = f"a role of account {owner!r}"
    else:
        fields = arn_fields(arn)
        if fields is None:
            return  # not an ARN: the role's pattern check says so
        owner = fields[4]
        shown = _short(arn)
    if is_unresolved(owner) or owner == account:
        return
    problems.add(
        "role",
        f"must be a role of this stack's account {account}: {service} accepts only roles of the account it "
        f"runs in (iam:PassRole passes no role of another account), got {shown}",
    )


def job_name_owner(stack: Stack, service: str, job_name: str | None, key: str = "") -> str | None:
    """The path of the job of ``stack`` that already has ``job_name`` (within ``key``: Forecast's
    names are per forecast), or None. A token name is never anyone's."""
    if job_name is None or is_unresolved(job_name):
        return None
    names = _JOB_NAMES.get(stack)
    return None if names is None else names.get((service, key, job_name))


def check_job_name(
    problems: Problems, stack: Stack, service: str, job_name: str | None, *, key: str = "", scope: str = ""
) -> None:
    """``job_name`` must not be the name of another of the stack's jobs of ``service`` (in
    ``key``, described as ``scope`` in the message): the service refuses a second job of a name
    (ResourceAlreadyExistsException). The message names the job that has it."""
    first = job_name_owner(stack, service, job_name, key)
    if first is not None:
        problems.add(
            "job_name",
            f"must be unique among this stack's {service} export jobs{scope}: {first} already has the name "
            f"{job_name!r}, and {service} refuses a second job of that name",
        )


def claim_job_name(stack: Stack, service: str, job_name: str | None, path: str, key: str = "") -> None:
    """Record that the job at ``path`` has ``job_name`` (once its props passed)."""
    if job_name is not None and not is_unresolved(job_name):
        _JOB_NAMES.setdefault(stack, {}).setdefault((service, key, job_name), path)


def warn_shared_prefix(job: Construct, path: str, destination: Construct, prefix: str) -> None:
    """A warning on ``job`` (at ``path``) when another job already writes under the same ``prefix``
    of ``destination``: their files mix, and a later job's may replace an earlier one's. Only
    known prefixes are compared (a token's value is not resolved here)."""
    if is_unresolved(prefix):
        return
    try:
        seen = _PREFIXES.setdefault(destination, {})
    except TypeError:  # not weak-referenceable: nothing to compare with
        return
    first = seen.setdefault(prefix, path)
    if first == path:
        return
    Annotations.of(job).add_warning_v2(
        SHARED_PREFIX_ID,
        wrap(
            f"{path} and {first} both write under the prefix {prefix!r} of {path_of(destination)}: their output "
            "files mix, and one job's files may replace the other's. Give each job its own prefix."
        ),
    )
