"""A fake of Amazon Forecast's forecast export jobs (JSON 1.1, botocore's model): create,
describe, stop (StopResource) and delete, with Forecast's rules on when each is allowed."""

from __future__ import annotations

import copy
from typing import Any

from ...services import FORECAST
from .arns import refuse_foreign_role, refuse_foreign_source
from .base import IamRequest, ServiceError
from .protocol import BotocoreFake

ACTIVE_STATES = {"CREATE_PENDING", "CREATE_IN_PROGRESS"}
#: DeleteForecastExportJob: "You can delete only export jobs that have a status of ACTIVE or
#: CREATE_FAILED" (the API reference); a stopped job counts as ended here too.
DELETABLE = {"ACTIVE", "CREATE_FAILED", "CREATE_STOPPED"}


class Fake(BotocoreFake):
    access = FORECAST
    model_name = "forecast"
    validation_error = (400, "InvalidInputException")
    # The quota is the access's (3, Forecast's guide); botocore's model lists
    # LimitExceededException for CreateForecastExportJob. The message is made up.
    quota_error = (400, "LimitExceededException", "You have reached the limit of 3 concurrent forecast export jobs")
    running_statuses = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_STOPPING"})
    job_statuses = (("CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS"), "ACTIVE", "CREATE_FAILED")

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        if operation == "CreateForecastExportJob":
            job = self._job_arn(params)
            return IamRequest(
                {"forecast": params["ForecastArn"]},
                passed_roles=[(params["Destination"]["S3Config"]["RoleArn"], self.principal)],
                tagged=job if params.get("Tags") else "",
            )
        arn = params.get("ForecastExportJobArn") or params["ResourceArn"]
        return IamRequest({"forecastExport": arn})

    def _job_arn(self, params: dict[str, Any]) -> str:
        forecast_name = params["ForecastArn"].rsplit("/", 1)[-1]
        return self.arn(f"forecast-export-job/{forecast_name}/{params['ForecastExportJobName']}")

    def op_CreateForecastExportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = self._job_arn(params)
        self.check_fault("CreateForecastExportJob", arn, starts_job=True)
        refuse_foreign_source(self, "ForecastArn", params["ForecastArn"], "forecast")
        # "If you pass a role that isn't in your account, you get an InvalidInputException error."
        refuse_foreign_role(self, "Destination.S3Config.RoleArn", params["Destination"]["S3Config"]["RoleArn"])
        if arn in self.jobs:
            raise ServiceError("ResourceAlreadyExistsException", f"A forecast export job named {arn} already exists")
        # Whether Forecast checks the name before the quota is not documented: the name first here.
        self.check_quota()
        s3 = params["Destination"]["S3Config"]
        # Forecast's guide has its role read back what it writes (s3:GetObject) besides PutObject.
        key_arn, request = s3.get("KMSKeyArn"), copy.deepcopy(params)
        self.start_job(arn, s3["RoleArn"], source_arn=arn, s3_path=s3["Path"], key_arn=key_arn, request=request)
        return {"ForecastExportJobArn": arn}

    def op_DescribeForecastExportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ForecastExportJobArn"]
        job = self.observe("DescribeForecastExportJob", arn, f"No resource found {arn}")
        if job.status == "GONE":
            del self.jobs[arn]
            raise ServiceError("ResourceNotFoundException", f"No resource found {arn}")
        # Its name, forecast, destination and format as created (Tags are not described).
        described: dict[str, Any] = {
            "ForecastExportJobArn": arn,
            **self.echoed("DescribeForecastExportJob", job.fields["request"]),
            "Status": job.status,
            "CreationTime": self.clock.as_real(job.created),
            "LastModificationTime": self.clock.now(),
        }
        if job.status == "CREATE_FAILED":
            described["Message"] = job.fields["reason"]
        return described

    def op_StopResource(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ResourceArn"]
        job = self.job("StopResource", arn, f"No resource found {arn}")
        if job.status not in ACTIVE_STATES:
            raise ServiceError("InvalidInputException", f"Cannot stop {arn} in status {job.status}")
        job.jump(["CREATE_STOPPING", "CREATE_STOPPED"])
        self.log(f"  {self.name}: {arn} stop requested")
        return {}

    def op_DeleteForecastExportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ForecastExportJobArn"]
        job = self.job("DeleteForecastExportJob", arn, f"No resource found {arn}")
        if job.status not in DELETABLE:
            raise ServiceError("ResourceInUseException", f"{arn} is in status {job.status} and cannot be deleted")
        job.jump(["DELETE_PENDING", "DELETE_IN_PROGRESS", "GONE"])
        self.log(f"  {self.name}: {arn} delete requested (the S3 output stays)")
        return {}
