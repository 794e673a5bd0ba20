"""A fake of Amazon Pinpoint's endpoint export jobs (REST-JSON, botocore's model)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from ...services import PINPOINT
from .arns import refuse_foreign_role, refuse_unknown_application
from .base import IamRequest
from .jobs import Job, iso, listing, ordered
from .protocol import BotocoreFake

RUNNING = ["CREATED", "PREPARING_FOR_INITIALIZATION", "INITIALIZING", "PROCESSING", "PROCESSING", "COMPLETING"]
FAILING = ["CREATED", "PREPARING_FOR_INITIALIZATION", "INITIALIZING", "PROCESSING", "FAILING"]
NEVER = ["CREATED", "PREPARING_FOR_INITIALIZATION", "INITIALIZING", "PROCESSING"]
TOTAL_PIECES = 4


class Fake(BotocoreFake):
    access = PINPOINT
    model_name = "pinpoint"
    throttling = (429, "TooManyRequestsException")
    server_error = (500, "InternalServerErrorException")
    access_denied = (403, "ForbiddenException")
    validation_error = (400, "BadRequestException")
    not_found = (404, "NotFoundException")
    job_statuses = (RUNNING, "COMPLETED", "FAILED")
    failing_statuses = FAILING
    never_statuses = NEVER

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        app = self.arn(f"apps/{params['ApplicationId']}")
        if operation == "CreateExportJob":
            role = params["ExportJobRequest"]["RoleArn"]
            # The IAM reference names mobiletargeting.amazonaws.com as the service a role is passed to.
            return IamRequest({"app": app}, passed_roles=[(role, "mobiletargeting.amazonaws.com")])
        if operation == "GetExportJob":
            return IamRequest({"export-job": f"{app}/jobs/export/{params['JobId']}"})
        return IamRequest({"app": app})

    def op_CreateExportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        app, export = params["ApplicationId"], params["ExportJobRequest"]
        self.check_fault("CreateExportJob", app, starts_job=True)
        refuse_unknown_application(self, app)
        refuse_foreign_role(self, "ExportJobRequest.RoleArn", export["RoleArn"])
        job = self.start_job(
            f"{app}/{uuid.uuid4().hex}",
            export["RoleArn"],
            source_arn=self.arn(f"apps/{app}"),
            s3_path=export["S3UrlPrefix"],
            request=copy.deepcopy(params),
        )
        return {"ExportJobResponse": self._response(job)}

    def op_GetExportJob(self, params: dict[str, Any]) -> dict[str, Any]:
        key = f"{params['ApplicationId']}/{params['JobId']}"
        job = self.observe("GetExportJob", key, f"Resource not found: export job {params['JobId']}")
        return {"ExportJobResponse": self._response(job)}

    def op_GetExportJobs(self, params: dict[str, Any]) -> dict[str, Any]:
        app = params["ApplicationId"]
        self.check_fault("GetExportJobs", app)
        refuse_unknown_application(self, app)
        jobs = [self._response(j) for j in ordered(self.jobs) if j.id.startswith(f"{app}/")]
        size, token = int(params.get("PageSize") or 20), params.get("Token")
        return {"ExportJobsResponse": listing(jobs, size, token, members=("Item", "NextToken"))}

    def progress(self, job: Job) -> str:
        return f"pieces {self._pieces(job)[0]}/{TOTAL_PIECES}"

    def _pieces(self, job: Job) -> tuple[int, int]:
        """(completed, failed) pieces at the job's status."""
        if job.status in ("COMPLETING", "COMPLETED"):
            return TOTAL_PIECES, 0
        if job.status in ("FAILING", "FAILED"):
            return TOTAL_PIECES // 2, TOTAL_PIECES - TOTAL_PIECES // 2
        processed = job.statuses[: job.position + 1].count("PROCESSING")  # half the pieces each
        return min(processed * TOTAL_PIECES // 2, TOTAL_PIECES), 0

    def _response(self, job: Job) -> dict[str, Any]:
        completed, failed = self._pieces(job)
        response: dict[str, Any] = {
            "ApplicationId": job.fields["request"]["ApplicationId"],
            "Id": job.id.partition("/")[2],
            "JobStatus": job.status,
            "CreationDate": iso(self.clock.as_real(job.created)),
            "Definition": copy.deepcopy(job.fields["request"]["ExportJobRequest"]),
            "Type": "EXPORT",
            "TotalPieces": TOTAL_PIECES,
            "CompletedPieces": completed,
            "FailedPieces": failed,
            "TotalFailures": failed,
            "TotalProcessed": completed + failed,
        }
        if job.status in ("FAILING", "FAILED"):
            response["Failures"] = [job.fields["reason"]]
        if job.status in ("COMPLETED", "FAILED"):
            response["CompletionDate"] = iso(self.clock.now())
        return response
