"""Amazon RDS snapshot export to S3 (StartExportTask): a DB snapshot, DB cluster snapshot or DB
cluster's data as Apache Parquet files."""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ._job import ExportJobBase, RoleRule
from ._lazy import lazy_list
from ._memo import addr_of, bucket_name_of, is_unresolved, key_arn_of, role_arn_of
from ._nag import acknowledge_iam5
from ._placement import arn_fields, check_job_name, check_source_arn
from ._validation import Problems, Text, _short, typed_props
from .destination import ExportDestination
from .handler import consts
from .services import RDS as SERVICE

#: Default: 6 hours, exports of big databases take hours (the long-wait path).
DEFAULT_TIMEOUT = Duration.hours(6)

#: What StartExportTask exports (API reference, SourceArn: "The Amazon Resource Name (ARN) of the
#: snapshot or cluster to export"; the Service Authorization Reference's resource types of
#: rds:StartExportTask: snapshot, cluster-snapshot and cluster). Automated snapshots' names hold
#: a colon (``snapshot:rds:mydb-2026-12-01-03-05``).
SOURCE_ARN_PATTERN = r"arn:[a-z\d-]+:rds:[a-z\d-]+:\d{12}:(snapshot|cluster-snapshot|cluster):.+"
SOURCE_KINDS = ("snapshot", "cluster-snapshot", "cluster")
EXAMPLE_SOURCE_ARN = "arn:aws:rds:us-east-1:123456789012:snapshot:shop-db-2026-12-01"
SOURCE_ARN = Text(
    patterns=((SOURCE_ARN_PATTERN, "a DB snapshot, DB cluster snapshot or DB cluster ARN"),), example=EXAMPLE_SOURCE_ARN
)
ROLE_ARN_PATTERN = r"arn:[a-z\d-]+:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-/]+"
ROLE = RoleRule(ROLE_ARN_PATTERN, "arn:aws:iam::123456789012:role/RdsExport")
#: ExportOnly (API reference): ``database``, ``database.table`` (MySQL, MariaDB, Aurora MySQL),
#: ``database.schema`` or ``database.schema.table`` (PostgreSQL, Aurora PostgreSQL): one to
#: three non-empty names joined by dots.
EXPORT_ONLY_PATTERN = r"[^.\s]+(\.[^.\s]+){0,2}"

#: "The caller of this operation must be authorized to run the following operations ...:
#: kms:CreateGrant, kms:DescribeKey" (API reference, KmsKeyId): the handler's role, on the key.
CALLER_KMS_ACTIONS = ["kms:CreateGrant", "kms:DescribeKey"]
#: On the sources (resource types snapshot, cluster-snapshot, cluster).
HANDLER_START_ACTIONS = ["rds:StartExportTask"]
#: On ``*``: an export task has no IAM resource type (CancelExportTask lists none, and
#: DescribeExportTasks, called by the task's identifier, only optional source types).
HANDLER_TASK_ACTIONS = ["rds:DescribeExportTasks", "rds:CancelExportTask"]

REASON_TASKS = (
    "An RDS export task has no ARN and no IAM resource type (Service Authorization Reference): "
    "CancelExportTask supports no resource-level permissions, and DescribeExportTasks by task identifier "
    "names no resource, so these two actions (and only they) are granted on '*'."
)
REASON_SOURCE_WILDCARD = (
    "StartExportTask is authorised on the snapshot or cluster it exports. This stack exports more sources "
    "than the policy can list within IAM's size limits, so the statement covers this account's RDS "
    "resources in this Region, for rds:StartExportTask only."
)

#: provider -> the keys the handler may already create grants on.
_KEYS_GRANTED: weakref.WeakKeyDictionary[Construct, set[str]] = weakref.WeakKeyDictionary()


class RdsSnapshotExportJob(ExportJobBase):
    """Exports an RDS DB snapshot, DB cluster snapshot or DB cluster to S3 (Apache Parquet) and
    waits for the export to finish.

    Create starts an export task and the stack waits until it is ``COMPLETE``; a ``FAILED`` or
    ``CANCELED`` task fails the resource with RDS's ``FailureCause``. Changing any prop but
    ``timeout`` starts a new task. When the timeout runs out, the handler cancels the task
    (CancelExportTask) and fails the resource. Delete cancels a ``STARTING`` or ``IN_PROGRESS``
    task and waits until it is ``CANCELED``. RDS keeps every task's record (there is no API to
    delete it), and the exported files in S3 are never deleted. RDS runs at most 5 exports per
    account at once: further jobs wait their turn.

    An export task has no ARN: :attr:`job_arn` is the task's identifier, as is :attr:`job_name`.

    Args:
        scope, id: the props every export job takes (``ExportJobBase``).
        source_arn: what to export: a DB snapshot (``arn:<partition>:rds:<region>:<account>:snapshot:<name>``),
            DB cluster snapshot (``...:cluster-snapshot:<name>``) or DB cluster (``...:cluster:<name>``)
            ARN, of the stack's account and Region where the stack's are known; a token (e.g. a
            ``DatabaseCluster``'s ``cluster_arn``) passes unchecked. A DB instance is not a source:
            export one of its snapshots.
        destination: where the output goes. It must have a KMS key (``encryption_key``): RDS
            encrypts the export with it (the API requires ``KmsKeyId``).
        prefix: key prefix in the destination bucket, ending in ``/``; RDS writes the task's files
            in a folder named after the task under it. Default: ``rds/<construct path>/``.
        export_only: the databases, schemas or tables to export, each ``database``,
            ``database.table`` (MySQL, MariaDB), ``database.schema`` or ``database.schema.table``
            (PostgreSQL). Default: everything.
        job_name: the task's identifier (1-60 letters, digits and hyphens, starting with a letter,
            neither ending in a hyphen nor holding two in a row). Unique in the account and Region
            for good: RDS keeps every task's record. Default: derived from the stack id, the
            construct's logical id and a hash of the props, so a retried create adopts its task
            and a changed one starts a new task.
        role: the role RDS assumes to write (an IAM role of this account, trusted by
            ``export.rds.amazonaws.com``). Default: a least-privilege role shared by this stack's
            RDS exports into ``destination``.
        timeout, wait: the props every export job takes (``ExportJobBase``).
    """

    SERVICE = SERVICE

    @typed_props
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source_arn: str,
        destination: ExportDestination,
        prefix: str | None = None,
        export_only: Sequence[str] | None = None,
        job_name: str | None = None,
        role: iam.IRole | None = None,
        timeout: Duration = DEFAULT_TIMEOUT,
        wait: bool = True,
    ) -> None:
        """Define the construct: every prop is described under Args in the class docstring."""
        super().__init__(scope, id)
        problems = Problems(self)
        stack = self._stack
        _check_source(problems, source_arn)
        check_source_arn(problems, "source_arn", source_arn, stack, service="RDS", what="a snapshot or cluster")
        _check_job_name(problems, job_name)
        check_job_name(problems, stack, SERVICE.name, job_name)
        _check_export_only(problems, export_only)
        self._check_role(problems, role, ROLE)
        key = destination.encryption_key
        if key is None:
            problems.add(
                "destination",
                f"must have a KMS key: RDS encrypts every snapshot export with a KMS key (StartExportTask's "
                f"KmsKeyId is required), and {destination.node.path} has none; give the ExportDestination an "
                "encryption_key (or leave bucket unset, so it makes a bucket with its own key)",
            )
        self.prefix = self._check_common(problems, prefix=prefix, timeout=timeout, destination=destination)
        self._accept(problems, destination, job_name)
        assert key is not None
        self._write_into(destination, role=role, source_arn=self._provider._arn("rds", "*"))

        request: dict[str, Any] = {
            "SourceArn": source_arn,
            "S3BucketName": bucket_name_of(destination.bucket),
            "IamRoleArn": role_arn_of(self.role),
            "KmsKeyId": key_arn_of(key),
        }
        # RDS puts the task's folder under S3Prefix itself: the prefix without its final "/".
        s3_prefix = self.prefix if is_unresolved(self.prefix) else self.prefix.rstrip("/")
        if s3_prefix:
            request["S3Prefix"] = s3_prefix
        if export_only is not None:
            request["ExportOnly"] = export_only if is_unresolved(export_only) else list(export_only)

        self._grant_handler(source_arn, key)
        self._create_resource(request=request, job_name=job_name, timeout=timeout, wait=wait)

    # -- attributes -------------------------------------------------------------------------

    @functools.cached_property
    def percent_progress(self) -> str:
        """How far the export got, in percent, as RDS reports it (``Fn::GetAtt PercentProgress``)."""
        return self._attribute(consts.ATTR_PERCENT_PROGRESS)

    @functools.cached_property
    def total_extracted_data_in_gb(self) -> str:
        """How much data the export extracted, in GB (``Fn::GetAtt TotalExtractedDataInGB``)."""
        return self._attribute(consts.ATTR_TOTAL_EXTRACTED_DATA_IN_GB)

    @functools.cached_property
    def snapshot_time(self) -> str:
        """When the exported snapshot was taken, ISO 8601 (``Fn::GetAtt SnapshotTime``)."""
        return self._attribute(consts.ATTR_SNAPSHOT_TIME)

    # -- grants -----------------------------------------------------------------------------

    def _grant_handler(self, source_arn: str, key: kms.IKey) -> None:
        """StartExportTask on the listed sources, describe and cancel on ``*`` (no resource type),
        iam:PassRole to RDS; and the caller's key permissions on this job's key."""
        provider = self._provider
        sources = provider._sources(SERVICE.name, provider._arn("rds", "*"), REASON_SOURCE_WILDCARD)
        sources.add(source_arn)

        def statements() -> list[iam.PolicyStatement]:
            acknowledge_iam5(provider.handler_role, ["*"], REASON_TASKS)
            return [
                iam.PolicyStatement(actions=HANDLER_START_ACTIONS, resources=lazy_list(sources.arns)),
                iam.PolicyStatement(actions=HANDLER_TASK_ACTIONS, resources=["*"]),
                provider._pass_role_statement(SERVICE),
            ]

        provider._grant_once(SERVICE.name, statements)
        granted = _KEYS_GRANTED.setdefault(provider, set())
        if addr_of(key) not in granted:
            granted.add(addr_of(key))
            key.grant(provider.handler_role, *CALLER_KMS_ACTIONS)


def _check_source(problems: Problems, source_arn: str) -> None:
    """A snapshot, cluster snapshot or cluster ARN of RDS: the whole pattern where the ARN is
    known, its service and resource type where an ARN made of tokens
    (``f"arn:{stack.partition}:rds:..."``) has them; a token as a whole passes."""
    fields = arn_fields(source_arn)
    if fields is None:
        problems.text("source_arn", source_arn, SOURCE_ARN)
        return
    service, kind = fields[2], fields[5].partition(":")[0]
    if not is_unresolved(service) and service != "rds":
        problems.add(
            "source_arn",
            f"must be an RDS ARN such as {EXAMPLE_SOURCE_ARN}, got service {service!r} in " + _short(source_arn),
        )
    elif not is_unresolved(kind) and kind not in SOURCE_KINDS:
        hint = " (a DB instance: export one of its snapshots instead)" if kind == "db" else ""
        problems.add(
            "source_arn",
            "must be the ARN of a DB snapshot, DB cluster snapshot or DB cluster (resource type snapshot, "
            f"cluster-snapshot or cluster), got resource type {kind!r}{hint} in {_short(source_arn)}",
        )
    elif not is_unresolved(source_arn):
        problems.text("source_arn", source_arn, SOURCE_ARN)
    elif not is_unresolved(fields[5]) and not fields[5].partition(":")[2]:
        problems.add("source_arn", f"must name the {kind} after '{kind}:', got {_short(source_arn)}")


def _check_job_name(problems: Problems, job_name: str | None) -> None:
    """The ExportTaskIdentifier rule (RDS's rule for its other identifiers, at most 60 characters:
    the API reference states none for export tasks), each part reported apart."""
    if job_name is None or is_unresolved(job_name):
        return
    problems.length("job_name", job_name, min_len=1, max_len=consts.RDS_MAX_IDENTIFIER)
    if not job_name:
        return
    if not re.fullmatch(r"[A-Za-z0-9-]+", job_name, re.ASCII):
        problems.add(
            "job_name",
            f"must hold only letters, digits and hyphens (RDS's identifier rule), got {job_name!r}",
        )
    elif not job_name[0].isalpha():
        problems.add("job_name", f"must start with a letter (RDS's identifier rule), got {job_name!r}")
    elif job_name.endswith("-") or "--" in job_name:
        problems.add(
            "job_name",
            f"must not end with a hyphen or hold two hyphens in a row (RDS's identifier rule), got {job_name!r}",
        )


def _check_export_only(problems: Problems, export_only: Sequence[str] | None) -> None:
    if export_only is None or is_unresolved(export_only):
        return
    if not export_only:
        problems.add("export_only", "must name at least one database, schema or table; leave it unset to export all")
        return
    seen: set[str] = set()
    for i, item in enumerate(export_only):
        prop = f"export_only[{i}]"
        if is_unresolved(item):
            continue
        if item in seen:
            problems.add(prop, f"must not repeat an entry, got {item!r} twice")
        seen.add(item)
        problems.pattern(
            prop,
            item,
            EXPORT_ONLY_PATTERN,
            rule="database, database.table, database.schema or database.schema.table (the API's ExportOnly forms)",
            example="shop.public.orders",
        )


__all__ = ["RdsSnapshotExportJob"]
