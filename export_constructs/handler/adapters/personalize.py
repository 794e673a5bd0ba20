"""Amazon Personalize dataset export jobs (CreateDatasetExportJob / DescribeDatasetExportJob).

Personalize has no API to stop a dataset export job: Delete and the handler's deadline leave
a running job to finish on its own (its output stays in S3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .base import ExportJobAdapter, JobSpec, phase_map

#: The job's id in Personalize's requests and answers.
ID = "datasetExportJobArn"


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
    # Personalize spells its states with spaces ("CREATE IN_PROGRESS"); be lenient about
    # underscores as well.
    phases = phase_map(succeeded=["ACTIVE"], failed=["CREATE FAILED", "CREATE_FAILED"])
    describe_call = ("describe_dataset_export_job", ID, "datasetExportJob")
    state_members = ("status", "creationDateTime", "failureReason")
    output_path = ("jobOutput", "s3DataDestination", "path")
    adopt_members = (("datasetArn", None), ("roleArn", None), ("ingestionMode", "PUT"), ("jobOutput", None))

    def job_id_of(self, spec: JobSpec) -> str:
        s = spec.stack
        return f"arn:{s.partition}:personalize:{s.region}:{s.account}:dataset-export-job/{spec.name}"

    def start(self, spec: JobSpec) -> str:
        request = {**spec.request, "jobName": spec.name}
        return self._create_or_adopt(spec, lambda: self._client.create_dataset_export_job(**request), ID)

    def source_label(self, source: str) -> str:
        """A dataset ARN's name part (``...:dataset/shop/USERS`` -> ``shop/USERS``), the
        ``{dataset}`` of a recurring export's prefix."""
        resource = source.split(":", 5)[-1]
        return resource.removeprefix("dataset/")

    def for_window(self, request: Mapping[str, Any], source: str, start: int, end: int, prefix: str) -> dict[str, Any]:
        """The dataset ``source`` exported whole under ``prefix``: CreateDatasetExportJob has no
        time range (https://docs.aws.amazon.com/personalize/latest/dg/API_CreateDatasetExportJob.html),
        so the window only names the job and its folder. ``request["jobOutput"]`` holds the
        bucket's ``s3://<bucket>/`` (and the key, if any); the window's prefix is added to it."""
        output = dict(request["jobOutput"]["s3DataDestination"])
        output["path"] = str(output["path"]) + prefix
        return {**request, "datasetArn": source, "jobOutput": {"s3DataDestination": output}}
