"""A fake of Amazon Personalize's dataset export jobs (JSON 1.1, botocore's model)."""

from __future__ import annotations

import copy
from typing import Any

from ..._placement import arn_fields
from ...services import PERSONALIZE
from .arns import refuse_foreign_role, refuse_foreign_source
from .base import IamRequest, ServiceError
from .protocol import BotocoreFake


class Fake(BotocoreFake):
    access = PERSONALIZE
    model_name = "personalize"
    validation_error = (400, "InvalidInputException")
    job_statuses = (("CREATE PENDING", "CREATE IN_PROGRESS", "CREATE IN_PROGRESS"), "ACTIVE", "CREATE FAILED")

    def _job_arn(self, name: str) -> str:
        return self.arn(f"dataset-export-job/{name}")

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        if operation == "CreateDatasetExportJob":
            job = self._job_arn(params["jobName"])
            return IamRequest(
                {"dataset": params["datasetArn"], "datasetExportJob": job},
                passed_roles=[(params["roleArn"], self.principal)],
                tagged=job if params.get("tags") else "",
            )
        return IamRequest({"datasetExportJob": params["datasetExportJobArn"]})

    def op_CreateDatasetExportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._job_arn(params["jobName"])
        self.check_fault("CreateDatasetExportJob", arn, starts_job=True)
        self._refuse_dataset(params["datasetArn"])
        refuse_foreign_role(self, "roleArn", params["roleArn"])
        if arn in self.jobs:
            raise ServiceError("ResourceAlreadyExistsException", f"Dataset export job {arn} already exists.")
        destination = params["jobOutput"]["s3DataDestination"]
        path, key_arn = destination["path"], destination.get("kmsKeyArn")
        self.start_job(
            arn, params["roleArn"], source_arn=arn, s3_path=path, key_arn=key_arn, request=copy.deepcopy(params)
        )
        return {"datasetExportJobArn": arn}

    def _refuse_dataset(self, dataset_arn: str) -> None:
        """Personalize exports a dataset of its own account and Region: a dataset group's ARN is an
        invalid value (InvalidInputException), another place's dataset is not found."""
        fields = arn_fields(dataset_arn)
        if fields is not None and fields[5].split("/", 1)[0] == "dataset-group":
            raise ServiceError.of(
                self.validation_error,
                f"datasetArn {dataset_arn} is a dataset group, not a dataset: give one of its datasets "
                f"(...:dataset/{fields[5].partition('/')[2]}/<dataset type>).",
            )
        refuse_foreign_source(self, "datasetArn", dataset_arn, "dataset")

    def op_DescribeDatasetExportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["datasetExportJobArn"]
        job = self.observe("DescribeDatasetExportJob", arn, f"Could not find dataset export job {arn}.")
        request = job.fields["request"]
        described: dict[str, Any] = {
            "jobName": request["jobName"],
            "datasetExportJobArn": arn,
            "datasetArn": request["datasetArn"],
            "ingestionMode": request.get("ingestionMode", "PUT"),
            "roleArn": request["roleArn"],
            "status": job.status,
            "jobOutput": request["jobOutput"],
            "creationDateTime": self.clock.as_real(job.created),
            "lastUpdatedDateTime": self.clock.now(),
        }
        if job.status == "CREATE FAILED":
            described["failureReason"] = job.fields["reason"]
        return {"datasetExportJob": described}
