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
from .base import ExportJobAdapter, JobConflict, JobNotFound, JobSpec, JobState, Phase

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

_PHASES = {
    "PENDING": Phase.RUNNING,
    "RUNNING": Phase.RUNNING,
    "PENDING_CANCEL": Phase.RUNNING,
    "COMPLETED": Phase.SUCCEEDED,
    "FAILED": Phase.FAILED,
    "CANCELLED": Phase.FAILED,
}
#: A task of the job's name in one of these is never adopted (nor a conflict).
ENDED_IN_FAILURE = frozenset({"FAILED", "CANCELLED"})
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

    # -- start ------------------------------------------------------------------------------

    def start(self, spec: JobSpec) -> str:
        existing = self._named(spec)
        if existing is not None:
            task_id = str(existing["taskId"])
            LOG.info("%s %s exists as %s with these parameters: adopted", self.label, spec.name, task_id)
            return task_id
        request = api_request(spec)
        response = self._client.create_export_task(taskName=spec.name, **request)
        return str(response["taskId"])

    def find(self, spec: JobSpec) -> tuple[str, JobState] | None:
        """The task ``spec.name`` started (found by listing), observed by its id: a queued job
        keeps its ``queued:`` physical id until it completes, so every later poll finds it here,
        and each observes the task itself (``DescribeExportTasks(taskId)``), as a started job's
        polls do."""
        existing = self._named(spec)
        if existing is None:
            return None
        task_id = str(existing["taskId"])
        try:
            return task_id, self.describe(task_id)
        except JobNotFound:
            return None

    def _named(self, spec: JobSpec) -> Mapping[str, Any] | None:
        """The newest task named ``spec.name`` that is this job's; None when no task has the name;
        :class:`JobConflict` when tasks have it but with other parameters."""
        others: list[Mapping[str, Any]] = []
        for task in self._listed("the account"):
            if task.get("taskName") != spec.name:
                continue
            if str((task.get("status") or {}).get("code", "")) in ENDED_IN_FAILURE:
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

    def describe(self, job_id: str) -> JobState:
        tasks = self._found(job_id, lambda: self._client.describe_export_tasks(taskId=job_id)).get("exportTasks", [])
        if not tasks:
            raise JobNotFound(job_id)
        return _state(tasks[0])

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
                return (str(task["taskId"]), _state(task)), False
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


def _state(task: Mapping[str, Any]) -> JobState:
    status = task.get("status") or {}
    code = str(status.get("code", ""))
    reason = status.get("message") or None
    if code == "CANCELLED" and reason is None:
        reason = "the export task was cancelled"
    info = task.get("executionInfo") or {}
    created = info.get("creationTime")
    attributes = {}
    if "from" in task and "to" in task:
        attributes = {consts.ATTR_FROM: str(task["from"]), consts.ATTR_TO: str(task["to"])}
    return JobState(
        # An unknown status is treated as running: the deadline still bounds it.
        phase=_PHASES.get(code, Phase.RUNNING),
        status=code,
        created_at=datetime.fromtimestamp(int(created) / 1000, UTC) if created is not None else None,
        reason=str(reason) if reason is not None and code in ("FAILED", "CANCELLED") else None,
        attributes=attributes,
    )
