"""A fake of Amazon RDS's snapshot exports to S3 (the query protocol with XML answers, botocore's
model): start, describe and cancel export tasks, with RDS's rules on names, sources, cancels and
the account's quota of concurrent exports; and, with an authorizer, the accesses RDS makes for a
task (its role, the bucket, the key) and the key permissions the caller needs.

Snapshots: every snapshot exists until one is registered (:meth:`Fake.add_snapshot`); from then on
only the registered ones that were not deleted (:meth:`Fake.delete_snapshot`) do, for
DescribeDBSnapshots, DescribeDBClusterSnapshots and StartExportTask alike."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..._placement import arn_fields
from ...services import RDS
from ..authorize import Access
from .arns import dns_suffix_of, refuse_foreign_source
from .base import IamRequest, ServiceError
from .jobs import Job
from .protocol import BotocoreFake

#: CancelExportTask cancels "an export task in progress" (API reference).
CANCELABLE = frozenset({"STARTING", "IN_PROGRESS"})
#: What each kind of source's ARN resource starts with, which is also its IAM resource type
#: (iam-data's rds.json: StartExportTask lists cluster, cluster-snapshot and snapshot): RDS's
#: not-found error for it (botocore's model: StartExportTask's error shapes and their codes;
#: DBSnapshotNotFoundFault has code DBSnapshotNotFound, DBClusterSnapshotNotFoundFault keeps its
#: name; all 404), and the task's ``SourceType``.
SOURCES = {
    "snapshot": ((404, "DBSnapshotNotFound"), "SNAPSHOT"),
    "cluster-snapshot": ((404, "DBClusterSnapshotNotFoundFault"), "SNAPSHOT"),
    "cluster": ((404, "DBClusterNotFoundFault"), "CLUSTER"),
}
#: ``TotalExtractedDataInGB`` of a complete task (made up).
EXTRACTED_GB = 3
#: The describe operations of snapshots: the kind of snapshot each describes (its not-found
#: error is the kind's in :data:`SOURCES`), its identifier member and its answer's list.
DESCRIBES = {
    "DescribeDBSnapshots": ("snapshot", "DBSnapshotIdentifier", "DBSnapshots"),
    "DescribeDBClusterSnapshots": ("cluster-snapshot", "DBClusterSnapshotIdentifier", "DBClusterSnapshots"),
}
DESCRIBES_KINDS = frozenset(kind for kind, *_ in DESCRIBES.values())
#: The engine a registered snapshot reports (made up: one of RDS's, and Aurora's for a cluster).
ENGINES = {"snapshot": "postgres", "cluster-snapshot": "aurora-postgresql"}


@dataclass
class Snapshot:
    """A snapshot the fake knows (:meth:`Fake.add_snapshot`)."""

    arn: str
    source_arn: str
    """The DB instance (``...:db:<id>``) or DB cluster (``...:cluster:<id>``) it is of."""
    automated: bool
    created: datetime
    deleted: bool = False

    @property
    def kind(self) -> str:
        """``snapshot`` or ``cluster-snapshot``."""
        return self.arn.split(":", 6)[5]

    @property
    def snapshot_type(self) -> str:
        """``automated`` or ``manual``, as DescribeDBSnapshots' ``SnapshotType`` says."""
        return "automated" if self.automated else "manual"

    @property
    def identifier(self) -> str:
        """The part after ``snapshot:`` / ``cluster-snapshot:`` (``rds:`` starts an automated one's)."""
        return self.arn.split(":", 6)[6]


class Fake(BotocoreFake):
    access = RDS
    model_name = "rds"
    # The query protocol's common errors (RDS API reference, "Common Errors"): Throttling (as
    # RDS answers it; botocore's standard retry mode retries that code), InternalFailure (500),
    # AccessDenied (403) and InvalidParameterValue for a malformed request.
    throttling = (400, "Throttling")
    server_error = (500, "InternalFailure")
    access_denied = (403, "AccessDenied")
    validation_error = (400, "InvalidParameterValue")
    #: ExportTaskNotFoundFault: code ExportTaskNotFound, HTTP 404 (botocore's model).
    not_found = (404, "ExportTaskNotFound")
    # The user guides' quota: 5 concurrent exports per account. The code and message are the ones
    # a public project quotes from a real answer (handler/adapters/rds.py QUOTA_EXCEEDED); the
    # HTTP status is assumed (400, as RDS's other client faults).
    quota_error = (400, "ExportTaskLimitReachedFault", "You have reached the limit of 5 concurrent export tasks")
    running_statuses = frozenset({"STARTING", "IN_PROGRESS", "CANCELING"})
    job_statuses = (("STARTING", "IN_PROGRESS", "IN_PROGRESS"), "COMPLETE", "FAILED")

    fail_when: Callable[[Mapping[str, Any]], bool] | None = None
    """Asked of each StartExportTask request: True makes its task fail (with
    :data:`~.jobs.FAILURE_REASON`) whatever the scenario. Default: None (the scenario decides)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.snapshots: dict[str, Snapshot] = {}
        """The registered snapshots by ARN, deleted ones included."""
        self.peak_tasks = 0
        """The most export tasks running at once so far (a task only starts running at a
        StartExportTask, so the count peaks at one)."""

    # -- snapshots ------------------------------------------------------------------------------

    def add_snapshot(self, arn: str, source_arn: str, *, automated: bool, created: datetime | None = None) -> Snapshot:
        """Register the snapshot ``arn`` (``...:snapshot:<id>`` of a DB instance's ``...:db:<id>``,
        ``...:cluster-snapshot:<id>`` of a cluster's ``...:cluster:<id>``), taken at ``created``
        (default: now on the clock). From the first one on, only registered snapshots exist."""
        kind = _kind(arn)
        source = arn_fields(source_arn)
        expected = {"snapshot": "db", "cluster-snapshot": "cluster"}.get(kind or "")
        if expected is None or source is None or not source[5].startswith(f"{expected}:"):
            raise ValueError(f"{arn} is no snapshot of a DB instance or cluster {source_arn}")
        snapshot = Snapshot(arn, source_arn, automated, created or self.clock.now())
        self.snapshots[arn] = snapshot
        self.log(f"  {self.name}: {kind} {snapshot.identifier} available")
        return snapshot

    def delete_snapshot(self, arn: str) -> None:
        """Delete a registered snapshot: describes and exports of it answer RDS's not-found error."""
        self.snapshots[arn].deleted = True
        self.log(f"  {self.name}: {self.snapshots[arn].kind} {self.snapshots[arn].identifier} deleted")

    def _snapshot(self, kind: str, identifier: str, snapshot_type: str | None) -> Snapshot | None:
        """The registered, not deleted snapshot of ``kind`` and ``identifier`` (stored lower case,
        the API reference says) that a describe of ``snapshot_type`` finds: an automated
        snapshot described by identifier is found only with ``SnapshotType=automated`` ("If this
        identifier is for an automated snapshot, the SnapshotType parameter must also be
        specified", DescribeDBSnapshots' DBSnapshotIdentifier)."""
        for snapshot in self.snapshots.values():
            if snapshot.deleted or snapshot.kind != kind or snapshot.identifier.lower() != identifier.lower():
                continue
            if snapshot_type == snapshot.snapshot_type or (snapshot_type is None and not snapshot.automated):
                return snapshot
        return None

    # -- authorization ------------------------------------------------------------------------

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        if operation == "StartExportTask":
            kind = _kind(params["SourceArn"])
            return IamRequest(
                {kind or "snapshot": params["SourceArn"]},
                passed_roles=[(params["IamRoleArn"], self.principal)],
            )
        if operation in DESCRIBES:
            # iam-data's rds.json: DescribeDBSnapshots on "snapshot" (or "db"), DescribeDBClusterSnapshots
            # on "cluster-snapshot" (or "cluster"), none required: a describe of one snapshot is
            # about its ARN, a describe of everything about "*".
            kind, member, _ = DESCRIBES[operation]
            if params.get(member):
                return IamRequest({kind: self.arn(f"{kind}:{params[member]}")})
            return IamRequest({})
        # DescribeExportTasks and CancelExportTask are about a task, which has no IAM resource
        # type: IAM checks them on "*".
        return IamRequest({})

    def authorize(self, operation: str, params: Any, headers: Any) -> ServiceError | None:
        """StartExportTask as the reference has it (the source, iam:PassRole), and the caller's
        own use of the key: "The caller of this operation must be authorized to run
        kms:CreateGrant and kms:DescribeKey" (API reference, KmsKeyId), which RDS calls on the
        caller's behalf."""
        denied = super().authorize(operation, params, headers)
        if denied is not None or operation != "StartExportTask" or self.authorizer is None:
            return denied
        principal = self.authorizer.caller(headers.get("X-Amz-Security-Token"))
        if principal is None:
            return None  # the base class reported the request without a session token
        via_rds = {
            "kms:ViaService": f"rds.{self.region}.{dns_suffix_of(self.region)}",
            "kms:CallerAccount": self.account,
            "kms:GrantIsForAWSResource": "true",
        }
        for action in ("kms:CreateGrant", "kms:DescribeKey"):
            if not self.authorizer.check(Access(principal, action, params["KmsKeyId"], via_rds)):
                # RDS answers a key the caller may not use so (botocore's model: KMSKeyNotAccessibleFault).
                return ServiceError(
                    "KMSKeyNotAccessibleFault",
                    f"The specified KMS key {params['KmsKeyId']} is not accessible: {principal} may not {action}",
                    400,
                )
        return None

    # -- operations ---------------------------------------------------------------------------

    def op_StartExportTask(self, params: dict[str, Any]) -> dict[str, Any]:
        identifier = params["ExportTaskIdentifier"]
        self.check_fault("StartExportTask", identifier, starts_job=True)
        _check_identifier(identifier)
        kind = self._check_source(params["SourceArn"])
        self._check_registered(params["SourceArn"], kind)
        self._check_role(params["IamRoleArn"])
        if identifier in self.jobs:
            # botocore's model: ExportTaskAlreadyExistsFault, code ExportTaskAlreadyExists (400).
            raise ServiceError(
                "ExportTaskAlreadyExists",
                f"Cannot start export task because a task with the identifier {identifier} already exists.",
            )
        self.check_quota()
        prefix = params.get("S3Prefix", "")
        registered = self.snapshots.get(params["SourceArn"])
        job = self.start_job(
            identifier,
            params["IamRoleArn"],
            source_arn=params["SourceArn"],
            # RDS writes the task's files in a folder named after it, under the prefix.
            s3_path=f"s3://{params['S3BucketName']}/{prefix + '/' if prefix else ''}{identifier}/",
            key_arn=params["KmsKeyId"],
            failing=self.fail_when is not None and self.fail_when(params),
            request=copy.deepcopy(params),
            source_type=SOURCES[kind][1],
            snapshot_time=registered.created if registered else self.clock.as_real(self.clock.stamp() - 3600),
        )
        self.peak_tasks = max(self.peak_tasks, self.running_jobs())
        return self._task(job)

    def op_DescribeDBSnapshots(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._describe_snapshots("DescribeDBSnapshots", params)

    def op_DescribeDBClusterSnapshots(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._describe_snapshots("DescribeDBClusterSnapshots", params)

    def _describe_snapshots(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """A describe by identifier (what the handler sends): the snapshot, or RDS's not-found
        error; without one, every registered snapshot of the kind the type filter keeps."""
        kind, member, answer = DESCRIBES[operation]
        identifier = params.get(member)
        self.check_fault(operation, identifier or "*list*")
        snapshot_type = params.get("SnapshotType")
        if identifier is None:
            found = [s for s in self.snapshots.values() if s.kind == kind and not s.deleted]
            kept = [s for s in found if snapshot_type in (None, s.snapshot_type)]
            return {answer: [self._described(s) for s in kept]}
        snapshot = self._snapshot(kind, identifier, snapshot_type)
        if snapshot is None:
            what = "DBSnapshot" if kind == "snapshot" else "DBClusterSnapshot"
            raise ServiceError.of(SOURCES[kind][0], f"{what} {identifier} not found.")
        return {answer: [self._described(snapshot)]}

    def _described(self, snapshot: Snapshot) -> dict[str, Any]:
        """The snapshot as RDS describes it (botocore's ``DBSnapshot`` / ``DBClusterSnapshot``)."""
        source = snapshot.source_arn.split(":", 6)[6]
        common = {
            "SnapshotCreateTime": snapshot.created,
            "Engine": ENGINES[snapshot.kind],
            "AllocatedStorage": 20,
            "Status": "available",
            "SnapshotType": snapshot.snapshot_type,
            "PercentProgress": 100,
        }
        if snapshot.kind == "snapshot":
            return {
                "DBSnapshotIdentifier": snapshot.identifier,
                "DBInstanceIdentifier": source,
                **common,
                "Encrypted": True,
                "DBSnapshotArn": snapshot.arn,
            }
        return {
            "DBClusterSnapshotIdentifier": snapshot.identifier,
            "DBClusterIdentifier": source,
            **common,
            "StorageEncrypted": True,
            "DBClusterSnapshotArn": snapshot.arn,
        }

    def op_DescribeExportTasks(self, params: dict[str, Any]) -> dict[str, Any]:
        identifier = params.get("ExportTaskIdentifier")
        if identifier is None:  # the handler always names its task
            return {"ExportTasks": [self._task(job) for job in self.jobs.values()]}
        job = self.observe("DescribeExportTasks", identifier, f"Cannot find export task with identifier {identifier}.")
        return {"ExportTasks": [self._task(job)]}

    def op_CancelExportTask(self, params: dict[str, Any]) -> dict[str, Any]:
        identifier = params["ExportTaskIdentifier"]
        job = self.job("CancelExportTask", identifier, f"Cannot find export task with identifier {identifier}.")
        if job.status not in CANCELABLE:
            # botocore's model: InvalidExportTaskStateFault (400).
            raise ServiceError(
                "InvalidExportTaskStateFault",
                f"Cannot cancel export task {identifier} because it is in the {job.status} state.",
            )
        # Cancelling takes RDS a while: one more look sees the task still CANCELING.
        job.jump(["CANCELING", "CANCELING", "CANCELED"])
        self.log(f"  {self.name}: {identifier} cancel requested (its S3 output so far stays)")
        return self._task(job)

    # -- helpers ------------------------------------------------------------------------------

    def _task(self, job: Job) -> dict[str, Any]:
        """The task as RDS describes it (botocore's ``ExportTask`` shape)."""
        request = job.fields["request"]
        status = job.status
        done = status == "COMPLETE"
        # Made up, but growing: 0 while starting, up to 90 in progress, 100 once complete.
        progress = 100 if done else min(90, 30 * job.position) if status == "IN_PROGRESS" else 0
        task: dict[str, Any] = {
            "ExportTaskIdentifier": job.id,
            "SourceArn": request["SourceArn"],
            "SnapshotTime": job.fields["snapshot_time"],
            "TaskStartTime": self.clock.as_real(job.created),
            "S3Bucket": request["S3BucketName"],
            "S3Prefix": request.get("S3Prefix", ""),
            "IamRoleArn": request["IamRoleArn"],
            "KmsKeyId": request["KmsKeyId"],
            "Status": status,
            "PercentProgress": progress,
            "TotalExtractedDataInGB": EXTRACTED_GB if done else 0,
            "SourceType": job.fields["source_type"],
        }
        if "ExportOnly" in request:
            task["ExportOnly"] = request["ExportOnly"]
        if status in ("COMPLETE", "FAILED", "CANCELED"):
            task["TaskEndTime"] = self.clock.now()
        if status == "FAILED":
            task["FailureCause"] = job.fields["reason"]
        return task

    def _check_source(self, arn: str) -> str:
        """The source's kind; RDS's not-found error for a source it cannot find where the task
        runs (another partition, Region or account), and a validation error for an ARN that is
        no snapshot, cluster snapshot or cluster."""
        kind = _kind(arn)
        if kind is None:
            raise ServiceError.of(
                self.validation_error,
                f"SourceArn {arn} is not the ARN of a DB snapshot, DB cluster snapshot or DB cluster",
            )
        refuse_foreign_source(self, "SourceArn", arn, kind, not_found=SOURCES[kind][0])
        return kind

    def _check_registered(self, arn: str, kind: str) -> None:
        """Once snapshots are registered, a snapshot that is not (or was deleted) does not exist:
        RDS's not-found error for its kind. Before, every snapshot exists (the one-shot exports)."""
        if not self.snapshots or kind not in DESCRIBES_KINDS:
            return
        snapshot = self.snapshots.get(arn)
        if snapshot is None or snapshot.deleted:
            raise ServiceError.of(SOURCES[kind][0], f"Cannot find the {kind} {arn}: it does not exist.")

    def _check_role(self, arn: str) -> None:
        """A role of another account (or no role ARN): RDS's IamRoleNotFound (botocore's model, 404)."""
        fields = arn_fields(arn)
        if fields is None or fields[2] != "iam" or fields[4] != self.account or not fields[5].startswith("role/"):
            raise ServiceError("IamRoleNotFound", f"The IAM role {arn} is not found in account {self.account}", 404)


def _kind(arn: str) -> str | None:
    """``snapshot``, ``cluster-snapshot`` or ``cluster`` from an RDS ARN's resource part."""
    fields = arn_fields(arn)
    if fields is None or fields[2] != "rds":
        return None
    kind, _, name = fields[5].partition(":")
    return kind if kind in SOURCES and name else None


def _check_identifier(identifier: str) -> None:
    """The identifier rule the library keeps to (handler/adapters/rds.py ``IDENTIFIER``)."""
    from ...handler.adapters.rds import IDENTIFIER, MAX_IDENTIFIER

    if len(identifier) > MAX_IDENTIFIER or not IDENTIFIER.fullmatch(identifier):
        raise ServiceError(
            "InvalidParameterValue",
            f"ExportTaskIdentifier {identifier!r} must be 1 to {MAX_IDENTIFIER} letters, digits or hyphens, "
            "start with a letter, and neither end with a hyphen nor contain two consecutive hyphens",
        )
