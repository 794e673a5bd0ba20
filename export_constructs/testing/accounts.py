"""Stacks of other accounts in a simulation: the archive account whose bucket and key the
simulated account's exports write into (``ExportArchive``). Their templates are resolved with
their own account, Region and partition, their policies become that account's for the
:class:`~.authorize.Authorizer`, and their buckets are the S3 fake's with that account as owner.
They are not deployed through the CloudFormation player: they hold buckets, keys and policies,
which nothing in the simulation creates or calls, only reads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .assembly import StackTemplate
from .fakes.arns import dns_suffix_of, partition_of
from .fakes.base import Log
from .fakes.jobs import VirtualClock
from .fakes.s3 import Fake as S3Fake
from .policies import AccountPolicies
from .resolver import Pseudo, Resolver


@dataclass(frozen=True)
class OtherStack:
    """A stack of another account, resolved with its own pseudo parameters."""

    template: StackTemplate
    resolver: Resolver


def other_stacks(templates: Iterable[StackTemplate], account: str, region: str) -> list[OtherStack]:
    """``templates`` resolved each in its own account and Region (``region``, the simulation's,
    for a stack without one of its own).

    Raises:
        ValueError: a stack has no concrete account (its account is what makes it another's), or
            is of the simulated ``account`` (its stacks are the simulation's own).
    """
    stacks = []
    for template in templates:
        own = template.account
        if own is None:
            raise ValueError(
                f"stack {template.name} of others has no account ({template.environment or 'no env'}): give it "
                "an env with the account it is deployed to"
            )
        if own == account:
            raise ValueError(
                f"stack {template.name} of others is of the simulated account {account}: simulate it as one of "
                "the stacks instead"
            )
        where = template.region or region
        pseudo = Pseudo(
            template.name, account=own, region=where, partition=partition_of(where), url_suffix=dns_suffix_of(where)
        )
        stacks.append(OtherStack(template, Resolver(template.template, pseudo)))
    return stacks


def other_policies(stacks: Sequence[OtherStack]) -> list[AccountPolicies]:
    """One :class:`AccountPolicies` per account of ``stacks``: their templates' policies and
    their warnings' statements."""
    by_account: dict[str, AccountPolicies] = {}
    for stack in stacks:
        pseudo = stack.resolver.pseudo
        policies = by_account.setdefault(
            pseudo.account, AccountPolicies(pseudo.account, pseudo.region, pseudo.partition)
        )
        policies.add_stack(stack.template, stack.resolver.resolve)
    return list(by_account.values())


def buckets_of(template: StackTemplate, resolver: Resolver) -> list[str]:
    """The names of the buckets ``template`` declares, as ``resolver`` names them."""
    return [resolver.ref(k) for k, r in template.resources.items() if r.get("Type") == "AWS::S3::Bucket"]


def start_s3(
    cleanup: contextlib.ExitStack,
    stacks: Iterable[tuple[StackTemplate, Resolver]],
    *,
    clock: VirtualClock,
    region: str,
    account: str,
    log: Log,
) -> S3Fake:
    """The S3 fake, serving until ``cleanup`` ends, knowing every bucket of ``stacks`` (each
    template with the resolver of its account and Region) with that account as owner."""
    s3 = cleanup.enter_context(S3Fake(clock=clock, region=region, account=account, log=log))
    assert isinstance(s3, S3Fake)
    for template, resolver in stacks:
        for bucket in buckets_of(template, resolver):
            s3.add_bucket(bucket, resolver.pseudo.account, resolver.pseudo.region)
    return s3


__all__ = ["OtherStack", "buckets_of", "other_policies", "other_stacks", "start_s3"]
