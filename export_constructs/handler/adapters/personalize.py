"""Amazon Personalize dataset export jobs (CreateDatasetExportJob / DescribeDatasetExportJob).

Personalize has no API to stop a dataset export job: Delete and the handler's deadline leave
a running job to finish on its own (its output stays in S3).
"""

from __future__ import annotations

import re

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
