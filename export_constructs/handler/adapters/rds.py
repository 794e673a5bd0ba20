"""Amazon RDS snapshot exports to S3 (StartExportTask / DescribeExportTasks / CancelExportTask).

An export task is known by its ``ExportTaskIdentifier`` only: neither the API (botocore's
``ExportTask`` shape has no ARN member) nor the Service Authorization Reference (iam-data's
``rds.json`` has no export-task resource type; StartExportTask is authorised on the snapshot or
cluster it exports, CancelExportTask on no resource type at all) gives a task an ARN. So the
job's physical id - and its ``JobArn`` attribute - is the identifier itself.

A running task can be cancelled (``CANCELING`` -> ``CANCELED``); RDS keeps every task's record,
and there is no API to delete it. Cancelling never removes what was already written to S3.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from botocore.exceptions import ClientError

from .. import consts
from .base import ExportJobAdapter, JobConflict, JobNotFound, JobSpec, JobState, Phase, error_code, phase_map

LOG = logging.getLogger("export_constructs")

# Error codes of botocore's rds model (2014-10-31): the shapes' ``error.code`` metadata.
#: ExportTaskNotFoundFault (HTTP 404), of DescribeExportTasks and CancelExportTask.
NOT_FOUND = "ExportTaskNotFound"
#: ExportTaskAlreadyExistsFault (HTTP 400), of StartExportTask.
ALREADY_EXISTS = "ExportTaskAlreadyExists"
#: InvalidExportTaskStateFault (HTTP 400), of CancelExportTask: the task is not cancellable (any more).
INVALID_STATE = "InvalidExportTaskStateFault"
#: The refusal at the account's quota of concurrent exports: not in botocore's model nor in AWS's
#: documentation, but the code public callers of StartExportTask catch, and the one a real answer
#: quoted in public shows ("You have reached the limit of 5 concurrent export tasks"). Another
#: code at the cap fails the resource instead of queueing it (its message says why).
QUOTA_EXCEEDED = "ExportTaskLimitReachedFault"

#: DBSnapshotNotFoundFault and DBClusterSnapshotNotFoundFault (botocore's model: their codes).
SNAPSHOT_NOT_FOUND = frozenset({"DBSnapshotNotFound", "DBClusterSnapshotNotFoundFault"})

#: ``ExportTaskIdentifier``: botocore's model and the API reference give no constraint. The rule
#: here is the one RDS documents for its other identifiers (DB instance, DB snapshot and cluster
#: snapshot identifiers: "letters, numbers, or hyphens; first character must be a letter; can't
#: end with a hyphen or contain two consecutive hyphens"), with at most 60 characters, which the
#: export tasks found in public code keep to (one truncates its identifiers to 60 and strips a
#: trailing hyphen). Unconfirmed for export tasks in AWS's own pages: the strictest of the two.
MAX_IDENTIFIER = consts.RDS_MAX_IDENTIFIER
IDENTIFIER = re.compile(r"[A-Za-z](?:-?[A-Za-z0-9])*")

#: Attributes beyond the common ones (every value a string).
ATTR_PERCENT_PROGRESS = consts.ATTR_PERCENT_PROGRESS
ATTR_TOTAL_EXTRACTED_DATA_IN_GB = consts.ATTR_TOTAL_EXTRACTED_DATA_IN_GB
ATTR_SNAPSHOT_TIME = consts.ATTR_SNAPSHOT_TIME
#: The identifier RDS reports, which replaces the engine's derived name in ``JobName``: derived
#: names join their parts with ``_``, which identifiers do not take (see :func:`task_identifier`).
ATTR_JOB_NAME = consts.ATTR_JOB_NAME


#: A derived identifier whose task ended in failure (a failed phase) is not adopted: a rollback's
#: Delete cancelled it (a stack update that added the job failed elsewhere), and a later deploy
#: with the same request derives the same identifier. RDS keeps every task's identifier for good,
#: so the next of ``<identifier>-r2`` ... ``-r<MAX_REVISION>`` that is free (or holds this job's
#: task) is used; derived names leave room for the suffix. A task that is running or complete is
#: adopted: a retried Create's, or the old task an update rollback returns to.
MAX_REVISION = 20
REVISION_ROOM = len(f"-r{MAX_REVISION}")


def task_identifier(name: str) -> str:
    """The ``ExportTaskIdentifier`` for the engine's job name: a derived name is
    ``<prefix>_<logical id>_<digest>`` (letters and digits between the ``_``), so each ``_``
    becomes ``-`` and it is lower-cased (RDS stores its DB identifiers in lower case; whether it
    folds export task identifiers is not documented, so derived ones are lower-case from the
    start); a user's ``job_name`` (checked at synth: no ``_``) stays as it is."""
    return name.replace("_", "-").lower() if "_" in name else name


def _identifiers(spec: JobSpec) -> list[str]:
    """The identifiers this job may use, in order: the derived one, then its revisions (a user's
    ``job_name`` has none: it is the identifier)."""
    base = task_identifier(spec.name)
    if base == spec.name:  # the user's job_name
        return [base]
    return [base, *(f"{base}-r{n}" for n in range(2, MAX_REVISION + 1))]


class Adapter(ExportJobAdapter):
    label = "RDS snapshot export task"
    name_max_length = MAX_IDENTIFIER - REVISION_ROOM
    # Only letters and digits of the logical id: with the prefix ("ex" + hex) and the hex digest,
    # joined by "-", a derived identifier starts with a letter and has no "--" and no end "-".
    name_invalid_chars = re.compile(r"[^A-Za-z0-9]")
    job_id_pattern = re.compile(rf"(?=.{{1,{MAX_IDENTIFIER}}}\Z){IDENTIFIER.pattern}")
    # CancelExportTask: ExportTaskNotFound for a task that is gone, InvalidExportTaskStateFault
    # for one that is not in progress (botocore's model).
    stopping_status = "CANCELING"
    stop_gone_errors = frozenset({NOT_FOUND})
    stop_ended_errors = frozenset({INVALID_STATE})
    # The Aurora and RDS user guides: "up to five concurrent DB snapshot export tasks in progress
    # per AWS account". The code RDS answers at that cap is not in botocore's model (QUOTA_EXCEEDED).
    quota_errors = frozenset({QUOTA_EXCEEDED})
    client_name = "rds"
    not_found_errors = frozenset({NOT_FOUND})
    # The API reference's Status values (DescribeExportTasks; its filter spells them lowercase, and
    # moto answers them so): compared case-insensitively (phase_of, _reason). Running: STARTING,
    # IN_PROGRESS, CANCELING.
    phases = phase_map(succeeded=["COMPLETE"], failed=["CANCELED", "FAILED"])
    # The deadline counts from the task's start (a task without one yet has no deadline until RDS
    # reports it).
    state_members = ("Status", "TaskStartTime", "")
    reason_members = ("FailureCause",)
    ended_reasons = MappingProxyType({"CANCELED": "the export task was canceled"})

    # -- start ------------------------------------------------------------------------------

    def start(self, spec: JobSpec) -> str:
        identifiers = _identifiers(spec)
        for identifier in identifiers:
            try:
                task = self._client.start_export_task(ExportTaskIdentifier=identifier, **spec.request)
            except ClientError as error:
                if error_code(error) != ALREADY_EXISTS:
                    raise
                existing = self._describe_raw(identifier)
                self._check_same(spec, identifier, existing)
                if len(identifiers) == 1 or self._current(existing):
                    return identifier  # a retried Create: the task this job already started
                LOG.info("%s %s is %s from an earlier Create: not adopted", self.label, identifier, existing["Status"])
                continue
            return str(task["ExportTaskIdentifier"])
        raise JobConflict(
            f"the identifiers {identifiers[0]} to {identifiers[-1]} all hold export tasks of earlier Creates "
            "with these parameters (RDS keeps task identifiers for good)"
        )

    def find(self, spec: JobSpec) -> tuple[str, JobState] | None:
        """The task a start of this job made, looked up in the order :meth:`start` uses the
        identifiers (the first that is free ends the search)."""
        identifiers = _identifiers(spec)
        for identifier in identifiers:
            try:
                task = self._describe_raw(identifier)
            except JobNotFound:
                return None
            if len(identifiers) == 1 or self._current(task):
                return identifier, self._state(task)
        return None

    def _current(self, task: Mapping[str, Any]) -> bool:
        """Whether ``task`` may be this job's: not ended in failure (see :data:`MAX_REVISION`)."""
        return self.phase_of(str(task.get("Status", ""))) is not Phase.FAILED

    def _check_same(self, spec: JobSpec, identifier: str, task: Mapping[str, Any]) -> None:
        """:class:`JobConflict` unless ``task`` exports the same source to the same place with the
        same role, key and selection as ``spec``."""
        wanted = spec.request
        differences = [
            f"{member} {got!r} (not {want!r})"
            for member, got, want in (
                ("SourceArn", task.get("SourceArn"), wanted.get("SourceArn")),
                ("S3Bucket", task.get("S3Bucket"), wanted.get("S3BucketName")),
                ("S3Prefix", task.get("S3Prefix") or "", wanted.get("S3Prefix") or ""),
                ("IamRoleArn", task.get("IamRoleArn"), wanted.get("IamRoleArn")),
                ("KmsKeyId", task.get("KmsKeyId"), wanted.get("KmsKeyId")),
                ("ExportOnly", list(task.get("ExportOnly") or []), list(wanted.get("ExportOnly") or [])),
            )
            if got != want
        ]
        if differences:
            raise JobConflict(f"existing export task {identifier} has {', '.join(differences)}")

    # -- observe ----------------------------------------------------------------------------

    def _describe_raw(self, identifier: str) -> Mapping[str, Any]:
        response = self._found(identifier, lambda: self._client.describe_export_tasks(ExportTaskIdentifier=identifier))
        for task in response.get("ExportTasks", []):
            if str(task.get("ExportTaskIdentifier", "")).lower() == identifier.lower():
                found: Mapping[str, Any] = task
                return found
        raise JobNotFound(identifier)

    def phase_of(self, status: str) -> Phase:
        return super().phase_of(status.upper())

    def _reason(self, job: Mapping[str, Any], status: str) -> str | None:
        return super()._reason(job, status.upper())

    def _attributes(self, job: Mapping[str, Any]) -> Mapping[str, str]:
        # _describe_raw returns only the task whose ExportTaskIdentifier is the one asked for.
        return {
            ATTR_JOB_NAME: str(job["ExportTaskIdentifier"]),
            ATTR_PERCENT_PROGRESS: str(job.get("PercentProgress") or 0),
            ATTR_TOTAL_EXTRACTED_DATA_IN_GB: str(job.get("TotalExtractedDataInGB") or 0),
            ATTR_SNAPSHOT_TIME: _iso(job.get("SnapshotTime")),
        }

    # -- stop -------------------------------------------------------------------------------

    def request_stop(self, job_id: str) -> None:
        self._client.cancel_export_task(ExportTaskIdentifier=job_id)

    # -- snapshot exports -------------------------------------------------------------------

    def source_label(self, source: str) -> str:
        """A DB instance's or cluster's identifier (``...:db:<id>``, ``...:cluster:<id>``), a
        snapshot's (``...:snapshot:rds:<id>`` -> ``rds-<id>``: a ``:`` in an S3 key breaks
        Hadoop-style readers of the export)."""
        name = source.split(":", 6)[-1] if source.count(":") >= 6 else source
        return name.replace(":", "-")

    def for_window(self, request: Mapping[str, Any], source: str, start: int, end: int, prefix: str) -> dict[str, Any]:
        """The export of the snapshot ``source`` (the window stands for it) under ``prefix``."""
        return {**request, "SourceArn": source, "S3Prefix": prefix.rstrip("/")}

    def snapshot(self, arn: str, *, automated: bool) -> tuple[str, int] | None:
        """The DB instance or cluster ARN a snapshot was taken of and when (epoch ms); None when
        RDS has no such snapshot (deleted already)."""
        fields = arn.split(":", 6)
        if len(fields) < 7 or fields[5] not in ("snapshot", "cluster-snapshot"):
            return None
        kind, identifier = fields[5], fields[6]
        head = ":".join(fields[:5])
        snapshot_type = "automated" if automated else "manual"
        try:
            if kind == "snapshot":
                found = self._client.describe_db_snapshots(DBSnapshotIdentifier=identifier, SnapshotType=snapshot_type)
                items, source = found.get("DBSnapshots", []), ("DBInstanceIdentifier", "db")
            else:
                found = self._client.describe_db_cluster_snapshots(
                    DBClusterSnapshotIdentifier=identifier, SnapshotType=snapshot_type
                )
                items, source = found.get("DBClusterSnapshots", []), ("DBClusterIdentifier", "cluster")
        except ClientError as error:
            if error_code(error) in SNAPSHOT_NOT_FOUND:
                return None
            raise
        if not items:
            return None
        created = items[0].get("SnapshotCreateTime")
        millis = int(created.timestamp() * 1000) if isinstance(created, datetime) else 0
        return f"{head}:{source[1]}:{items[0][source[0]]}", millis

    def backup_snapshot(self, job_id: str) -> tuple[str, str, int] | None:
        """The snapshot an AWS Backup job made (its recovery point: an RDS snapshot's ARN), what
        of, and when the job began (epoch ms); None when AWS Backup knows no such completed job.
        DescribeBackupJob: https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeBackupJob.html."""
        try:
            job = self._client_factory("backup").describe_backup_job(BackupJobId=job_id)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise
        point, source = str(job.get("RecoveryPointArn") or ""), str(job.get("ResourceArn") or "")
        if job.get("State") != "COMPLETED" or ":rds:" not in point:
            return None
        created = job.get("CreationDate")
        return point, source, int(created.timestamp() * 1000) if isinstance(created, datetime) else 0

    def output_uri(self, request: Mapping[str, Any]) -> str:
        """``s3://<bucket>/<S3Prefix>/``: RDS writes the task's files under it (in a folder named
        after the task)."""
        prefix = str(request.get("S3Prefix") or "")
        return f"s3://{request['S3BucketName']}/{prefix + '/' if prefix else ''}"


def _iso(value: Any) -> str:
    """A timestamp attribute as ISO 8601 (``""`` when RDS gives none)."""
    return value.isoformat() if isinstance(value, datetime) else str(value or "")
