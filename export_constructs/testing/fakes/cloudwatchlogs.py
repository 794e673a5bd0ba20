"""A fake of Amazon CloudWatch Logs' export tasks (JSON 1.1, botocore's model ``logs``).

What it enforces, as Logs does:

- one active (``PENDING`` or ``RUNNING``) export task per account (service quota L-EEC839DF):
  a CreateExportTask beyond it is refused with ``LimitExceededException``;
- the log group must exist in the account and Region: every group does but those named in
  :attr:`~.base.FakeService.missing_sources` (by name or ARN), which are
  ``ResourceNotFoundException`` ("The specified log group does not exist.");
- ``from`` must be before ``to`` (``InvalidParameterException``);
- the caller must be allowed ``logs:CreateExportTask`` on the log group (iam-data's only resource
  type for it) and ``s3:PutObject`` under the destination prefix (the API reference: "you must
  use credentials that have permission to write to the S3 bucket"); Logs then writes as its own
  principal ``logs.<region>.amazonaws.com`` - no role - with ``aws:SourceAccount`` /
  ``aws:SourceArn`` (the log group's ARN), ``s3:GetBucketAcl`` on the bucket and
  ``s3:PutObject`` with ``s3:x-amz-acl: bucket-owner-full-control``, and the bucket's key through
  S3. A denied access makes the task ``FAILED`` with S3's reason.

Task ids are UUIDs. ``DescribeExportTasks`` with a ``taskId`` moves that task one status on (as
every fake's describe does); without one it lists every task newest first, ``limit`` (default
50) per page.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ...services import CLOUDWATCH_LOGS
from .base import IamRequest, ServiceError
from .jobs import Job, Scenario, listing, ordered
from .protocol import BotocoreFake

CREATE, DESCRIBE, CANCEL = "CreateExportTask", "DescribeExportTasks", "CancelExportTask"
RUNNING = ["PENDING", "RUNNING", "RUNNING"]
ACTIVE = frozenset({"PENDING", "RUNNING"})
#: What Logs answers when a task is cancelled (CancelExportTask): PENDING_CANCEL for a poll, then
#: CANCELLED once it has stopped.
CANCELLING = ["PENDING_CANCEL", "PENDING_CANCEL", "CANCELLED"]
#: The task of another stack that holds the account's slot with :attr:`Scenario.BUSY`.
OTHER_STACKS_TASK: dict[str, Any] = {
    "taskId": "00000000-0000-4000-8000-0000000000b5",
    "taskName": "another-stacks-export",
    "logGroupName": "/another/stack",
    "from": 0,
    "to": 1,
    "destination": "another-stacks-bucket",
    "status": {"code": "RUNNING", "message": "Started Successfully"},
}
#: The API's default page size (DescribeExportTasks: "the default is up to 50 items").
PAGE_SIZE = 50


class Fake(BotocoreFake):
    access = CLOUDWATCH_LOGS
    model_name = "logs"
    # botocore's service id "CloudWatch Logs" -> AWS_ENDPOINT_URL_CLOUDWATCH_LOGS.
    validation_error = (400, "InvalidParameterException")
    server_error = (500, "ServiceUnavailableException")
    quota_error = (400, "LimitExceededException", "Resource limit exceeded.")
    running_statuses = ACTIVE
    job_statuses = (RUNNING, "COMPLETED", "FAILED")

    fail_when: Callable[[Mapping[str, Any]], bool] | None = None
    """Asked of each CreateExportTask request: True makes its task fail (with
    :data:`~.jobs.FAILURE_REASON`) whatever the scenario, e.g. one window's first attempt.
    Default: None (the scenario decides)."""

    #: Virtual seconds a task takes per status when nothing describes it (the provider's poll
    #: interval, at which the handler's own describes move a task on).
    unobserved_status_seconds: ClassVar[float] = 30.0

    def advance(self, job: Job) -> None:
        super().advance(job)
        job.fields["seen"] = self.clock.stamp()

    def check_quota(self) -> None:
        """The one-slot quota, with time passing for the task that holds the slot even when
        nothing describes it (the task of a ``wait=False`` job, or an Update's old task, which
        waits until the new one has started): such a task moves one status on per
        :attr:`unobserved_status_seconds` of virtual time since it was last observed."""
        now = self.clock.stamp()
        for job in list(self.jobs.values()):
            seen = float(job.fields.get("seen", job.created))
            while job.status in self.running_statuses and now - seen >= self.unobserved_status_seconds:
                super().advance(job)
                seen += self.unobserved_status_seconds
                job.fields["seen"] = seen
        super().check_quota()

    def _group_arn(self, name: str) -> str:
        return self.arn(f"log-group:{name}")

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        if operation == CREATE:
            return IamRequest({"log-group": self._group_arn(params["logGroupName"])})
        # DescribeExportTasks and CancelExportTask: no resource type in the reference ("*").
        return IamRequest({})

    def authorize(self, operation: str, params: Any, headers: Any) -> ServiceError | None:
        """IAM for the request; for CreateExportTask also the caller's own write permission on
        the destination, which the API reference requires."""
        denied = super().authorize(operation, params, headers)
        if denied is not None or operation != CREATE or self.authorizer is None:
            return denied
        from ..authorize import Access

        principal = self.authorizer.caller(headers.get("X-Amz-Security-Token"))
        obj = self._object(params)
        # Logs writes every object with the bucket-owner-full-control ACL (the access's own
        # condition): a bucket policy of another account may require it of the caller too.
        acl = CLOUDWATCH_LOGS.object_context()
        if principal is not None and not self.authorizer.check(Access(principal, "s3:PutObject", obj, acl)):
            return ServiceError.of(
                self.access_denied, f"User: {principal} is not authorized to perform: s3:PutObject on {obj}"
            )
        return None

    def _object(self, params: Any) -> str:
        return f"arn:{self.partition}:s3:::{params['destination']}/{_prefix(params)}/export-part-00000"

    # -- operations --------------------------------------------------------------------------

    def op_CreateExportTask(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("taskName", "")
        self.check_fault(CREATE, name or params["logGroupName"], starts_job=True)
        group = params["logGroupName"]
        if group in self.missing_sources or self._group_arn(group) in self.missing_sources:
            raise ServiceError.of(self.not_found, "The specified log group does not exist.")
        if params["from"] >= params["to"]:
            raise ServiceError.of(
                self.validation_error, f"Specified time range of '{params['from']}' and '{params['to']}' is not valid."
            )
        self.check_quota()
        job = self.start_job(
            str(uuid.uuid4()),
            None,
            source_arn=self._group_arn(group),
            s3_path=f"s3://{params['destination']}/{_prefix(params)}/",
            failing=self.fail_when is not None and self.fail_when(params),
            request=copy.deepcopy(params),
        )
        return {"taskId": job.id}

    def op_DescribeExportTasks(self, params: dict[str, Any]) -> dict[str, Any]:
        task_id = params.get("taskId")
        if task_id is not None:
            self.check_fault(DESCRIBE, task_id)
            job = self.jobs.get(task_id)
            if job is None:
                return {"exportTasks": []}
            self.advance(job)
            return {"exportTasks": [self._described(job)]}
        self.check_fault(DESCRIBE, "*list*")
        jobs = [j for j in ordered(self.jobs) if params.get("statusCode") in (None, j.status)]
        size, token = int(params.get("limit") or PAGE_SIZE), params.get("nextToken")
        answer = listing(jobs, size, token, members=("exportTasks", "nextToken"))
        answer["exportTasks"] = [self._described(j) for j in answer["exportTasks"]]  # the page only
        if self.busy and params.get("statusCode") in (None, "RUNNING") and not token:
            # Another stack's task holds the account's one slot: it is listed as the account's.
            answer["exportTasks"].insert(0, OTHER_STACKS_TASK)
        return answer

    def op_CancelExportTask(self, params: dict[str, Any]) -> dict[str, Any]:
        task_id = params["taskId"]
        job = self.job(CANCEL, task_id, "The specified export task does not exist.")
        if job.status not in ACTIVE:
            raise ServiceError("InvalidOperationException", f"The export task is {job.status}: it cannot be cancelled.")
        job.jump(CANCELLING)
        self.log(f"  {self.name}: {task_id} cancel requested")
        return {}

    def _described(self, job: Any) -> dict[str, Any]:
        request = job.fields["request"]
        described: dict[str, Any] = {
            "taskId": job.id,
            "logGroupName": request["logGroupName"],
            "from": request["from"],
            "to": request["to"],
            "destination": request["destination"],
            "status": {"code": job.status},
            "executionInfo": {"creationTime": int(self.clock.as_real(job.created).timestamp() * 1000)},
        }
        if "taskName" in request:
            described["taskName"] = request["taskName"]
        if "destinationPrefix" in request:
            described["destinationPrefix"] = request["destinationPrefix"]
        if job.status == "FAILED":
            described["status"]["message"] = job.fields["reason"]
        elif job.status in ACTIVE:
            described["status"]["message"] = "Started Successfully"
        if job.status in ("COMPLETED", "FAILED", "CANCELLED"):
            described["executionInfo"]["completionTime"] = int(self.clock.now().timestamp() * 1000)
        return described


def _prefix(params: Any) -> str:
    """Where Logs writes a task's objects: its ``destinationPrefix``, by default ``exportedlogs``
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html)."""
    return str(params.get("destinationPrefix") or "exportedlogs")


__all__ = ["Fake", "Scenario"]
