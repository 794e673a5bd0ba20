"""A fake of AWS Backup's DescribeBackupJob (REST-JSON, botocore's model ``backup``), for the
backup jobs whose snapshots a snapshot export follows: a job that made an RDS snapshot (its
recovery point) of a DB instance or cluster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .base import IamRequest, ServiceError
from .protocol import BotocoreFake


@dataclass(frozen=True)
class BackupJob:
    """A backup job AWS Backup ran."""

    job_id: str
    resource_arn: str
    recovery_point_arn: str
    created: datetime
    state: str = "COMPLETED"


class Fake(BotocoreFake):
    name = "Backup"
    model_name = "backup"
    # botocore's model: ResourceNotFoundException (its HTTP status is not in the model: 404 assumed).
    not_found = (404, "ResourceNotFoundException")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backup_jobs: dict[str, BackupJob] = {}

    def add_job(self, job: BackupJob) -> None:
        self.backup_jobs[job.job_id] = job

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        if operation != "DescribeBackupJob":
            raise ServiceError("InvalidParameterValueException", f"{operation} is not simulated")
        # The Service Authorization Reference lists no resource type for DescribeBackupJob: "*".
        return IamRequest({})

    def op_DescribeBackupJob(self, params: dict[str, Any]) -> dict[str, Any]:
        job = self.backup_jobs.get(params["BackupJobId"])
        if job is None:
            raise ServiceError.of(self.not_found, f"Backup job {params['BackupJobId']} not found")
        vault = self.arn("backup-vault:Default")
        return {
            "AccountId": self.account,
            "BackupJobId": job.job_id,
            "BackupVaultName": "Default",
            "BackupVaultArn": vault,
            "RecoveryPointArn": job.recovery_point_arn,
            "ResourceArn": job.resource_arn,
            "ResourceType": "Aurora" if ":cluster:" in job.resource_arn else "RDS",
            "CreationDate": job.created,
            "CompletionDate": job.created,
            "State": job.state,
            "PercentDone": "100.0",
        }
