"""A fake of Amazon Personalize's dataset export jobs (JSON 1.1, botocore's model)."""

from __future__ import annotations

import copy
from typing import Any

from .base import FAILURE_REASON, ServiceError
from .protocol import BotocoreFake

RUNNING = ["CREATE PENDING", "CREATE IN_PROGRESS", "CREATE IN_PROGRESS"]


class Fake(BotocoreFake):
    name = "Personalize"
    model_name = "personalize"
    signing_name = "personalize"
    endpoint_env = "AWS_ENDPOINT_URL_PERSONALIZE"
    validation_error = (400, "InvalidInputException")

    def op_CreateDatasetExportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:aws:personalize:{self.region}:{self.account}:dataset-export-job/{params['jobName']}"
        if fault := self.fault("CreateDatasetExportJob", arn, starts_job=True):
            raise fault
        if arn in self.jobs:
            raise ServiceError("ResourceAlreadyExistsException", f"Dataset export job {arn} already exists.")
        self.new_job(arn, self.steps(RUNNING, "ACTIVE", "CREATE FAILED"), request=copy.deepcopy(params))
        return {"datasetExportJobArn": arn}

    def op_DescribeDatasetExportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["datasetExportJobArn"]
        job = self.job("DescribeDatasetExportJob", arn, f"Could not find dataset export job {arn}.")
        self.advance(job)
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
            "lastUpdatedDateTime": self.clock.as_real(self.clock.stamp()),
        }
        if job.status == "CREATE FAILED":
            described["failureReason"] = FAILURE_REASON
        return {"datasetExportJob": described}
