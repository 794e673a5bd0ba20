"""Amazon CloudWatch Logs export tasks (CreateExportTask / DescribeExportTasks /
CancelExportTask), JSON 1.1 through botocore's ``logs`` client.

An export task has an id (``taskId``) and no ARN (botocore's model; the Service Authorization
Reference lists no export-task resource type): the physical id and ``JobArn`` are the task id.

Idempotency: Logs takes no client token and does not keep task names unique. The task's name
(``taskName``) is the engine's derived (or the user's) job name, and before creating a task the
adapter lists the account's export tasks (``DescribeExportTasks``, newest first, every page) for
one of that name: one that exports the same log group to the same bucket and prefix over the same
range - or, for a window, a range of the same length - is the task a retried Create started, and
is adopted; one with other parameters is a :class:`JobConflict`. ``DescribeExportTasks`` does not
return ``logStreamNamePrefix``, so that member is not compared.

The time range: a fixed ``from``/``to`` (epoch milliseconds) comes from the template. A window
(``windowMilliseconds``, a member of the construct's request that is not the API's and is never
sent) ends when the handler starts the task: ``to`` is :attr:`JobSpec.requested_at` of the start
(for a queued job, the poll at which its turn came), ``from`` is ``to`` minus the window.

One active (``PENDING`` or ``RUNNING``) export task per account: a Create beyond it is refused
with ``LimitExceededException``, and the engine queues the job.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .. import consts
from .base import ExportJobAdapter, JobConflict, JobNotFound, JobSpec, JobState, Phase, phase_map

LOG = logging.getLogger("export_constructs")

WINDOW_MEMBER = consts.LOGS_WINDOW_MEMBER
#: CreateExportTask's input members (botocore's model, logs 2014-03-28): all the adapter sends.
API_MEMBERS = ("logGroupName", "logStreamNamePrefix", "from", "to", "destination", "destinationPrefix")

NOT_FOUND = "ResourceNotFoundException"
INVALID_OPERATION = "InvalidOperationException"
# botocore's model lists LimitExceededException among CreateExportTask's errors; the API reference
# says "Each account can only have one active (RUNNING or PENDING) export task at a time", and the
# CloudWatch Logs quotas page lists "Export tasks: 1 active (running or pending) per account"
# (service quota L-EEC839DF, not adjustable).
LIMIT_EXCEEDED = "LimitExceededException"

#: Task ids as Logs makes them (a UUID, e.g. cda45419-90ea-4db5-9833-aade86253e66 in the user
#: guide's examples).
TASK_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class Adapter(ExportJobAdapter):
    label = "CloudWatch Logs export task"
    # taskName: 1-512 characters, no pattern (botocore's model).
    name_max_length = 512
    name_invalid_chars = re.compile(r"[^A-Za-z0-9_]")
    job_id_pattern = TASK_ID
    # CancelExportTask: ResourceNotFoundException for a task that is gone,
    # InvalidOperationException for one that has ended (botocore's model).
    stopping_status = "PENDING_CANCEL"
    stop_gone_errors = frozenset({NOT_FOUND})
    stop_ended_errors = frozenset({INVALID_OPERATION})
    quota_errors = frozenset({LIMIT_EXCEEDED})
    client_name = "logs"
    # DescribeExportTasks filters by task id or status, not by name
    # (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeExportTasks.html):
    # a task of the job's name may be on any page, so a start reads every page.
    list_call = ("describe_export_tasks", "", "exportTasks", "nextToken", "nextToken")
    max_list_pages = None
    # Running: PENDING, RUNNING, PENDING_CANCEL. A task of the job's name that failed is never
    # adopted (nor a conflict).
    phases = phase_map(succeeded=["COMPLETED"], failed=["FAILED", "CANCELLED"])

    # -- start ------------------------------------------------------------------------------

    def start(self, spec: JobSpec) -> str:
        task_id = self.job_id_of(spec)
        if task_id is not None:
            LOG.info("%s %s exists as %s with these parameters: adopted", self.label, spec.name, task_id)
            return task_id
        return self.start_new(spec)

    def job_id_of(self, spec: JobSpec) -> str | None:
        """The id of the task ``spec.name`` started (found by listing). The base's :meth:`find`
        then observes it by its id: a queued job keeps its ``queued:`` physical id until it
        completes, so every later poll finds it there, and each observes the task itself
        (``DescribeExportTasks(taskId)``), as a started job's polls do."""
        existing = self._named(spec)
        return None if existing is None else str(existing["taskId"])

    def _named(self, spec: JobSpec) -> Mapping[str, Any] | None:
        """The newest task named ``spec.name`` that is this job's; None when no task has the name;
        :class:`JobConflict` when tasks have it but with other parameters."""
        others: list[Mapping[str, Any]] = []
        for task in self._listed("the account"):
            if task.get("taskName") != spec.name:
                continue
            if self.phase_of(str((task.get("status") or {}).get("code", ""))) is Phase.FAILED:
                # A rollback's Delete cancelled it (a stack update that added the job failed
                # elsewhere), or it failed: a later deploy with the same request derives the same
                # name and starts a new task of it (Logs' task names need not be unique).
                continue
            if _same(task, spec.request):
                return task
            others.append(task)
        if others:
            task = others[0]
            raise JobConflict(
                f"existing task {task.get('taskId')} exports {task.get('logGroupName')} from {task.get('from')} "
                f"to {task.get('to')} into s3://{task.get('destination')}/{task.get('destinationPrefix', '')}"
            )
        return None

    # -- observe ----------------------------------------------------------------------------

    def _describe_raw(self, job_id: str) -> Mapping[str, Any]:
        tasks = self._found(job_id, lambda: self._client.describe_export_tasks(taskId=job_id)).get("exportTasks", [])
        if not tasks:
            raise JobNotFound(job_id)
        task: Mapping[str, Any] = tasks[0]
        return task

    def _state(self, job: Mapping[str, Any]) -> JobState:
        """A task's status and its reason are ``status.code`` and ``status.message`` (a running
        task's message, "Started Successfully", is no reason); its creation time is
        ``executionInfo.creationTime`` in epoch milliseconds."""
        status = job.get("status") or {}
        code = str(status.get("code", ""))
        phase = self.phase_of(code)
        reason = status.get("message") or None
        if code == "CANCELLED" and reason is None:
            reason = "the export task was cancelled"
        created = (job.get("executionInfo") or {}).get("creationTime")
        attributes = {}
        if "from" in job and "to" in job:
            attributes = {consts.ATTR_FROM: str(job["from"]), consts.ATTR_TO: str(job["to"])}
        return JobState(
            phase=phase,
            status=code,
            created_at=datetime.fromtimestamp(int(created) / 1000, UTC) if created is not None else None,
            reason=str(reason) if reason is not None and phase is Phase.FAILED else None,
            attributes=attributes,
        )

    # -- stop -------------------------------------------------------------------------------

    def request_stop(self, job_id: str) -> None:
        self._client.cancel_export_task(taskId=job_id)

    # -- recurring exports ------------------------------------------------------------------

    def for_window(self, request: Mapping[str, Any], source: str, start: int, end: int, prefix: str) -> dict[str, Any]:
        """The log group ``source`` from ``start`` to the last millisecond before ``end``: the API
        exports events up to ``to`` included ("Events with a timestamp later than this time are
        not exported", CreateExportTask's reference), so windows that meet share no millisecond.
        Logs adds the ``/`` after ``destinationPrefix`` itself."""
        return {
            **request,
            "logGroupName": source,
            "from": start,
            "to": end - 1,
            "destinationPrefix": prefix.removesuffix("/"),
        }

    def look_before_start(self, spec: JobSpec) -> tuple[tuple[str, JobState] | None, bool]:
        """The account's active tasks (``PENDING`` and ``RUNNING``: at most one, Logs' quota):
        this window's, adopted; another's, a full quota. Two calls, whatever the account's
        history of tasks (listing every task by name, as a one-shot start does, grows with it)."""
        # The status is checked again here: an implementation that ignores the filter (moto's)
        # must not make a finished task look like one holding the slot.
        active = [
            task
            for code in ("PENDING", "RUNNING")
            for task in self._client.describe_export_tasks(statusCode=code).get("exportTasks", [])
            if task.get("status", {}).get("code") == code
        ]
        for task in active:
            if task.get("taskName") == spec.name and _same(task, spec.request):
                return (str(task["taskId"]), self._state(task)), False
        return None, bool(active)

    def start_new(self, spec: JobSpec) -> str:
        response = self._client.create_export_task(taskName=spec.name, **api_request(spec))
        return str(response["taskId"])

    def output_uri(self, request: Mapping[str, Any]) -> str:
        """``s3://<bucket>/<prefix>/``: Logs writes ``<prefix>/<task id>/<stream>/<n>.gz`` under it."""
        prefix = str(request.get("destinationPrefix", ""))
        return f"s3://{request['destination']}/{prefix}/" if prefix else f"s3://{request['destination']}/"


def api_request(spec: JobSpec) -> dict[str, Any]:
    """CreateExportTask's members (without ``taskName``) for ``spec``: a window becomes
    ``from``/``to`` ending at ``spec.requested_at``; nothing else of the construct's request is
    sent."""
    request = {k: v for k, v in spec.request.items() if k in API_MEMBERS}
    for member in ("from", "to"):  # CloudFormation hands every property over as a string
        if member in request:
            request[member] = int(request[member])
    window = window_millis(spec.request)
    if window is not None:
        end = millis(spec.requested_at)
        request["to"] = end
        request["from"] = max(0, end - window)
    return request


def window_millis(request: Mapping[str, Any]) -> int | None:
    """The request's window in milliseconds, or None for a fixed range. A window of a template
    parameter arrives as an amount and the milliseconds of its unit, and is checked here.

    Raises:
        ValueError: the window is not a whole number of milliseconds from 1 ms to 50 years.
    """
    amount = request.get(WINDOW_MEMBER)
    if amount is None:
        return None
    value = float(amount) * int(request.get(consts.LOGS_WINDOW_UNIT_MEMBER) or 1)
    if value % 1 or not consts.LOGS_MIN_WINDOW_MS <= value <= consts.LOGS_MAX_WINDOW_MS:
        raise ValueError(
            f"the window is {value:g} ms ({amount} x {request.get(consts.LOGS_WINDOW_UNIT_MEMBER) or 1} ms): it "
            "must be a whole number of milliseconds from 1 ms to 50 years (check the template parameter)"
        )
    return int(value)


def millis(moment: datetime) -> int:
    """Epoch milliseconds, as the API's ``from``/``to`` are."""
    return int(moment.timestamp() * 1000)


def _same(task: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    """Whether ``task`` exports what ``request`` asks: group, bucket and prefix, and the same range
    (a window: a range of that length)."""
    if (
        task.get("logGroupName") != request.get("logGroupName")
        or task.get("destination") != request.get("destination")
        or (task.get("destinationPrefix") or "") != (request.get("destinationPrefix") or "")
    ):
        return False
    window = window_millis(request)
    if window is not None:
        return int(task.get("to", 0)) - int(task.get("from", 0)) == window
    return all(int(task.get(m, -1)) == int(request.get(m, -2)) for m in ("from", "to"))
