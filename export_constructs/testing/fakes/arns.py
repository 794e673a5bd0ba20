"""ARNs as the fake services see them: the partition of a Region, and the refusals of a source,
project or role outside the simulated account and Region, each in the service's own error.

These refusals are not problems of the handler (it sent what the template said): like AWS, the
fake fails the request, and so the Create.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

import botocore.loaders

from ..._placement import arn_fields
from .base import ServiceError

if TYPE_CHECKING:
    from .base import FakeService

#: What a Pinpoint application (project) id looks like: 32 lower-case hexadecimal digits, as
#: Pinpoint makes them (a UUID without its dashes).
PINPOINT_APPLICATION_ID = re.compile(r"[0-9a-f]{32}")


@functools.cache
def _partitions() -> list[tuple[re.Pattern[str], str, str]]:
    """(Region pattern, partition, DNS suffix) of each partition botocore knows."""
    data = botocore.loaders.create_loader().load_data("partitions")
    return [
        (re.compile(p["regionRegex"]), p["id"], p["outputs"]["dnsSuffix"])
        for p in data["partitions"]
        if p.get("regionRegex")
    ]


def _partition(region: str) -> tuple[str, str]:
    for pattern, partition, suffix in _partitions():
        if pattern.match(region):
            return partition, suffix
    return "aws", "amazonaws.com"


def partition_of(region: str) -> str:
    """The partition of ``region`` (``cn-north-1`` -> ``aws-cn``, ``us-gov-west-1`` ->
    ``aws-us-gov``), by botocore's partition metadata; ``aws`` for a Region it does not know."""
    return _partition(region)[0]


def dns_suffix_of(region: str) -> str:
    """The DNS suffix of ``region``'s partition (``AWS::URLSuffix``: ``amazonaws.com.cn`` in China)."""
    return _partition(region)[1]


def account_of(arn: str) -> str:
    """The account field of an ARN (``arn:partition:service:region:account:resource``); ``""``
    for an ARN without one (a bucket's) or anything that is no ARN."""
    fields = arn_fields(arn)
    return fields[4] if fields is not None else ""


def bucket_of(s3_arn: str) -> str:
    """The bucket of an S3 bucket or object ARN (``arn:partition:s3:::bucket/key``)."""
    return s3_arn.split(":::", 1)[-1].split("/", 1)[0]


def refuse_foreign_source(
    fake: FakeService, member: str, arn: str, what: str, not_found: tuple[int, str] | None = None
) -> None:
    """Raise the service's not-found error when the source ``arn`` (member ``member``) is not in
    the fake's partition, Region and account - a service looks for its sources where the job runs
    (Personalize, Forecast, RoboMaker: ResourceNotFoundException; each fake's ``not_found``) - or
    is one of the fake's :attr:`~.base.FakeService.missing_sources`. Any other source of the
    account and Region exists.

    Args:
        fake: the service.
        member: the request member, e.g. ``datasetArn``.
        arn: its value.
        what: the source's kind, e.g. ``dataset``.
        not_found: the answer (HTTP status, error code), where the service has one per kind of
            source (RDS: DBSnapshotNotFound...). Default: the fake's ``not_found``.
    """
    answer = not_found or fake.not_found
    if arn in fake.missing_sources:
        raise ServiceError.of(answer, f"Could not find the {what} {arn} ({member}): it does not exist.")
    fields = arn_fields(arn)
    if fields is None:
        return  # the model's pattern (checked before) decides
    elsewhere = [
        f"{label} {given!r}"
        for label, given, here in (
            ("partition", fields[1], fake.partition),
            ("Region", fields[3], fake.region),
            ("account", fields[4], fake.account),
        )
        if given != here
    ]
    if elsewhere:
        raise ServiceError.of(
            answer,
            f"Could not find the {what} {arn} ({member}): its ARN names {', '.join(elsewhere)}, but {fake.name} "
            f"looks for it in account {fake.account}, Region {fake.region}, where the job runs.",
        )


def refuse_foreign_role(fake: FakeService, member: str, arn: str) -> None:
    """Raise the service's validation error when the role ``arn`` (member ``member``) is not of the
    fake's account: a role is passed to a service with iam:PassRole, which passes no role of
    another account (Forecast documents it: InvalidInputException; Personalize
    InvalidInputException, Pinpoint BadRequestException, RoboMaker InvalidParameterException:
    each operation's error for an invalid value)."""
    fields = arn_fields(arn)
    if fields is None or fields[4] == fake.account:
        return
    raise ServiceError.of(
        fake.validation_error,
        f"The role {arn} ({member}) is of account {fields[4]!r}: {fake.name} accepts only roles of account "
        f"{fake.account}, where the job runs (a role of another account cannot be passed).",
    )


def refuse_unknown_application(fake: FakeService, application_id: str) -> None:
    """Raise Pinpoint's NotFoundException for an application id that is not 32 lower-case
    hexadecimal digits (no Pinpoint project has such an id), or that is one of the fake's
    :attr:`~.base.FakeService.missing_sources` (by id or by the project's ARN)."""
    arn = fake.arn(f"apps/{application_id}")
    if application_id in fake.missing_sources or arn in fake.missing_sources:
        raise ServiceError.of(fake.not_found, f"Resource not found: there is no application {application_id!r}.")
    if PINPOINT_APPLICATION_ID.fullmatch(application_id) is None:
        raise ServiceError.of(
            fake.not_found,
            f"Resource not found: there is no application {application_id!r} (Pinpoint's application ids are "
            "32 lower-case hexadecimal characters).",
        )
