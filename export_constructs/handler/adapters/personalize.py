"""Amazon Personalize dataset export jobs (CreateDatasetExportJob / DescribeDatasetExportJob).

Personalize has no API to stop a dataset export job: Delete and the handler's deadline leave
a running job to finish on its own (its output stays in S3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from .base import ExportJobAdapter, JobConflict, JobSpec, JobState, Phase, error_code

# Personalize spells its states with spaces ("CREATE IN_PROGRESS"); be lenient about
# underscores as well.
_SUCCEEDED = {"ACTIVE"}
_FAILED = {"CREATE FAILED", "CREATE_FAILED"}


class Adapter(ExportJobAdapter):
    label = "Personalize dataset export job"
    name_max_length = 63
    name_invalid_chars = re.compile(r"[^A-Za-z0-9_-]")
    job_id_pattern = re.compile(r"arn:[a-z\d-]+:personalize:[^:]*:\d{12}:dataset-export-job/[A-Za-z0-9][A-Za-z0-9_-]*")
    # botocore's model (personalize 2018-05-22) lists LimitExceededException among
    # CreateDatasetExportJob's errors, documented there as "The limit on the number of requests per
    # second has been exceeded"; Personalize also answers it for its resource quotas. How many
    # dataset export jobs an account may run at once is not documented: no quota is assumed (the
    # construct's SERVICE.quota is None) and the refusal only queues.
    quota_errors = frozenset({"LimitExceededException"})
    client_name = "personalize"

    def job_id_of(self, spec: JobSpec) -> str:
        s = spec.stack
        return f"arn:{s.partition}:personalize:{s.region}:{s.account}:dataset-export-job/{spec.name}"

    def start(self, spec: JobSpec) -> str:
        request = dict(spec.request)
        request["jobName"] = spec.name
        try:
            response = self._client.create_dataset_export_job(**request)
        except ClientError as error:
            if error_code(error) != "ResourceAlreadyExistsException":
                raise
            return self._adopt(spec)
        return str(response["datasetExportJobArn"])

    def _adopt(self, spec: JobSpec) -> str:
        """A retried Create: take over the job this name already started, if it is the same."""
        job_arn = self.job_id_of(spec)
        job = self._describe_raw(job_arn)
        wanted = spec.request
        same = (
            job.get("datasetArn") == wanted.get("datasetArn")
            and job.get("roleArn") == wanted.get("roleArn")
            and job.get("ingestionMode", "PUT") == wanted.get("ingestionMode", "PUT")
            and job.get("jobOutput") == wanted.get("jobOutput")
        )
        if not same:
            raise JobConflict(f"existing job {job_arn} exports {job.get('datasetArn')} to {_path(job)}")
        return job_arn

    def _describe_raw(self, job_arn: str) -> Mapping[str, Any]:
        response = self._found(job_arn, lambda: self._client.describe_dataset_export_job(datasetExportJobArn=job_arn))
        job: Mapping[str, Any] = response["datasetExportJob"]
        return job

    def describe(self, job_id: str) -> JobState:
        job = self._describe_raw(job_id)
        status = str(job.get("status", ""))
        if status in _SUCCEEDED:
            phase = Phase.SUCCEEDED
        elif status in _FAILED:
            phase = Phase.FAILED
        else:
            phase = Phase.RUNNING
        return JobState(
            phase=phase,
            status=status,
            created_at=job.get("creationDateTime"),
            reason=job.get("failureReason"),
        )

    def output_uri(self, request: Mapping[str, Any]) -> str:
        return str(request["jobOutput"]["s3DataDestination"]["path"])


def _path(job: Mapping[str, Any]) -> str:
    return str(job.get("jobOutput", {}).get("s3DataDestination", {}).get("path", "?"))
