"""The export-job engine: Create / Update / Delete and the polls in between.

Handlers return a value or raise; the Provider framework turns an exception into FAILED
with the exception's message as the reason. Nothing here talks to CloudFormation.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from . import consts
from .adapters.base import (
    ClientFactory,
    ExportJobAdapter,
    JobConflict,
    JobNotFound,
    JobSpec,
    JobState,
    Phase,
    error_code,
    shorten,
)
from .event import ResourceEvent

LOG = logging.getLogger("export_constructs")

_ADAPTER_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _execution_name(event: ResourceEvent, job_id: str) -> str:
    """``<logical id>-<hash of job and wait handle>``: at most 80 of ``[A-Za-z0-9_-]``."""
    handle = str(event.properties.get(consts.PROP_WAIT_HANDLE, ""))
    digest = hashlib.sha256(f"{job_id}|{handle}".encode()).hexdigest()[:32]
    return f"{re.sub(r'[^A-Za-z0-9_-]', '', event.logical_id)[:47]}-{digest}"


class JobFailed(Exception):
    """The job ended in failure; the message carries the service's reason."""


def _failed(adapter: ExportJobAdapter, job_id: str, state: JobState) -> JobFailed:
    return JobFailed(
        f"{adapter.label} {job_id} ended with status {state.status}: {state.reason or 'the service gave no reason'}"
    )


def _attributes(
    job_id: str, name: str, output_uri: str, state: JobState, queued_seconds: float = 0.0
) -> dict[str, str]:
    """The resource's ``Data``: the common attributes and the adapter's own."""
    return {
        consts.ATTR_JOB_ARN: job_id,
        consts.ATTR_JOB_NAME: name,
        consts.ATTR_STATUS: state.status,
        consts.ATTR_OUTPUT_URI: output_uri,
        consts.ATTR_QUEUED_SECONDS: str(max(0, int(queued_seconds))),
        **state.attributes,
    }


def queued_id(name: str) -> str:
    """The physical id of a queued job: ``queued:<job name>``."""
    return consts.QUEUED_ID_PREFIX + name


def is_queued(physical_id: str | None) -> bool:
    return bool(physical_id) and str(physical_id).startswith(consts.QUEUED_ID_PREFIX)


def _queued_at(raw: Mapping[str, Any]) -> datetime | None:
    """When the queued job's Create was (onEvent's ``QueuedAt``, which the framework carries
    into every isComplete event), or None."""
    value = raw.get(consts.EVENT_QUEUED_AT)
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _keeps_given_name(event: ResourceEvent) -> bool:
    """An Update whose old and new properties give the same ``job_name``."""
    given = event.properties.get(consts.PROP_JOB_NAME)
    old = event.old_properties
    return event.request_type == "Update" and old is not None and bool(given) and old.get(consts.PROP_JOB_NAME) == given


def changed_members(old: Any, new: Any, path: str = "") -> list[str]:
    """The dotted paths (``jobOutput.s3DataDestination.path``) where ``new`` differs from ``old``;
    lists are compared whole."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        keys = [*new, *(k for k in old if k not in new)]
        return [m for k in keys for m in changed_members(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))]
    return [] if old == new else [path]


def _named_update_refused(event: ResourceEvent, adapter: ExportJobAdapter, name: str, conflict: JobConflict) -> str:
    """Why an Update that changes a named job's request fails, and what to do about it."""
    old = event.old_properties or {}
    path = event.properties.get(consts.PROP_CONSTRUCT_PATH) or event.logical_id
    members = changed_members(old.get(consts.PROP_REQUEST), event.properties.get(consts.PROP_REQUEST))
    shown = ", ".join(members[:6]) + (f" and {len(members) - 6} more" if len(members) > 6 else "")
    return shorten(
        f"{path}: the request changed ({shown or 'Request'}) but job_name {name!r} did not, and "
        f"{adapter.label} {name!r} already exists with other parameters ({conflict}). "
        "As with any custom-named resource that needs replacement, the changed job needs a new name: "
        "give the construct a new job_name (or leave job_name unset to derive one). "
        "Nothing was started or stopped."
    )


class DeadlineExceeded(Exception):
    """The job outlived the construct's timeout."""


def load_adapter(name: str, client_factory: ClientFactory) -> ExportJobAdapter:
    """Import ``handler/adapters/<name>.py`` and build its ``Adapter``.

    There is no registry to edit: adding a service means adding one adapter module.
    """
    if not _ADAPTER_NAME.fullmatch(name) or name == "base":
        raise ValueError(f"no export-job adapter named {name!r}")
    try:
        module = importlib.import_module(f"..adapters.{name}", __name__)
    except ModuleNotFoundError:
        raise ValueError(f"no export-job adapter named {name!r}") from None
    adapter_class: type[ExportJobAdapter] = module.Adapter
    return adapter_class(client_factory)


def derive_job_name(event: ResourceEvent, adapter: ExportJobAdapter, properties: Mapping[str, Any]) -> str:
    """The user's job name, or ``<prefix>_<logical id>_<digest>`` within the adapter's rules.

    The prefix is derived from the stack id (see :attr:`ResourceEvent.job_name_prefix`), so the
    handler's IAM policy can be scoped to it (a ``JobNamePrefix`` property, which templates of
    earlier versions carried, held the same value: it is ignored). The digest covers the
    stack id, logical id and request, so a retried Create derives the same name and a changed
    request derives a new one.
    """
    given = properties.get(consts.PROP_JOB_NAME)
    if given:
        return str(given)
    prefix = event.job_name_prefix
    digest = event.digest(properties)
    logical = adapter.name_invalid_chars.sub("", event.logical_id)
    room = adapter.name_max_length - len(prefix) - len(digest) - 2
    return f"{prefix}_{logical[:room]}_{digest}"


class Engine:
    """Drives one custom-resource event through the adapter its resource type names."""

    def __init__(
        self,
        client_factory: ClientFactory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._client_factory = client_factory
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._adapters: dict[str, ExportJobAdapter] = {}

    def use_clock(self, clock: Callable[[], datetime], sleep: Callable[[float], None] | None = None) -> None:
        """Read time from ``clock`` (and wait with ``sleep``) from now on: the offline
        simulation (:mod:`export_constructs.testing`) hands its virtual clock in here."""
        self._clock = clock
        if sleep is not None:
            self._sleep = sleep

    @property
    def client_factory(self) -> ClientFactory:
        """What builds the AWS clients (boto3's, or a test's)."""
        return self._client_factory

    def now(self) -> datetime:
        """The engine's clock (the simulation's virtual one in the simulation)."""
        return self._clock()

    def adapter(self, service: str) -> ExportJobAdapter:
        """The adapter of ``service`` as the constructs name it (``"CloudWatchLogs"``)."""
        return self._adapter(service.lower())

    def _adapter(self, name: str) -> ExportJobAdapter:
        """The adapter ``name``, built once per engine: a warm Lambda container keeps its clients
        (RoboMaker's botocore session and connection pool) from one invocation to the next.
        Adapters hold no per-job state."""
        adapter = self._adapters.get(name)
        if adapter is None:
            adapter = self._adapters[name] = load_adapter(name, self._client_factory)
        return adapter

    # -- entry points -----------------------------------------------------------------------

    def on_event(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        event = ResourceEvent.from_dict(raw)
        LOG.info("%s %s %s", event.request_type, event.resource_type, event.physical_id)
        if event.mode == consts.MODE_REPORT:
            return self._report_id(event)
        adapter = self._adapter(event.adapter_name)
        if event.request_type == "Create":
            return self._tracked(raw, event, self._start(event, adapter))
        if event.request_type == "Update":
            if self._same_job(event, adapter):
                kept = {"PhysicalResourceId": event.physical_id}
                return self._tracked(raw, event, kept) if self._new_wait(event) else kept
            return self._tracked(raw, event, self._start(event, adapter))
        if event.request_type == "Delete":
            if event.mode == consts.MODE_SIGNAL:
                self._stop_tracker(event, adapter)
            return self._delete(event, adapter)
        raise ValueError(f"unknown request type {event.request_type!r}")

    def is_complete(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        event = ResourceEvent.from_dict(raw)
        if event.mode == consts.MODE_REPORT:
            return {"IsComplete": True} if event.request_type == "Delete" else self._report(event)
        if event.request_type == "Delete":
            adapter = self._adapter(event.adapter_name)
            return {"IsComplete": self._delete_done(self._queued_job(event, adapter), adapter)}
        # ``start`` and ``signal`` modes complete once the job is accepted (its status at start).
        return self._poll(event, wait=event.mode == consts.MODE_WAIT, queued_at=_queued_at(raw))

    def poll(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """One look at the job: complete with its attributes, not yet, or raise
        :class:`JobFailed` / :class:`DeadlineExceeded` (the job stopped where the API allows).
        The custom resource's polls and the long-wait tracker's are this same judgement; a
        queued job's start is tried again first."""
        return self._poll(ResourceEvent.from_dict(raw), queued_at=_queued_at(raw))

    def _poll(self, event: ResourceEvent, *, wait: bool = True, queued_at: datetime | None = None) -> dict[str, Any]:
        """Without ``wait``, a job that has not failed completes as it is."""
        adapter = self._adapter(event.adapter_name)
        job_id = event.physical_id or ""
        answer: dict[str, Any] = {}
        state: JobState | None = None
        if is_queued(job_id):
            started = self._start_queued(event, adapter, queued_at)
            if started is None:
                return {"IsComplete": False}
            job_id, state = started
            answer["PhysicalResourceId"] = job_id  # the framework answers CloudFormation with it
        if state is None:
            state = adapter.describe(job_id)
        LOG.info("%s %s: %s", adapter.label, job_id, state.status)
        if state.phase is Phase.FAILED:
            raise _failed(adapter, job_id, state)
        if state.phase is Phase.SUCCEEDED or not wait:
            name = derive_job_name(event, adapter, event.properties)
            waited = 0.0
            if answer and queued_at is not None:
                waited = ((state.created_at or self._clock()) - queued_at).total_seconds()
            uri = adapter.output_uri(event.request)
            return {**answer, "IsComplete": True, "Data": _attributes(job_id, name, uri, state, waited)}
        self._check_deadline(event, adapter, job_id, state, since=queued_at if answer else None)
        return {"IsComplete": False}

    def _start_queued(
        self, event: ResourceEvent, adapter: ExportJobAdapter, queued_at: datetime | None
    ) -> tuple[str, JobState | None] | None:
        """Try a queued job's start again (after a random pause of up to
        ``QUEUE_JITTER_SECONDS``): its id (and state, if the lookup saw it) once the service
        has it, None while the quota is still full; :class:`DeadlineExceeded` once the job's
        timeout, counted from the Create, has passed while it was queued."""
        spec = self._spec(event)
        found = adapter.find(spec)
        if found is not None:
            return found
        # The bucket may have changed hands while the job waited: asked before every start.
        adapter.confirm_bucket_owner(spec)
        self._sleep(self._jitter() * consts.QUEUE_JITTER_SECONDS)
        refusal = ""
        try:
            job_id = adapter.start(spec)
        except Exception as error:
            code = adapter.quota_refusal(error)
            if code is None:
                raise
            refusal = f"{code}: {error}"
        else:
            LOG.info("%s %s started as %s after waiting in the queue", adapter.label, spec.name, job_id)
            return job_id, None
        since = queued_at or spec.requested_at
        waited = (spec.requested_at - since).total_seconds()
        LOG.info("%s %s is still queued after %d s (%s)", adapter.label, spec.name, waited, refusal)
        if waited >= event.timeout_seconds:
            raise DeadlineExceeded(
                shorten(
                    f"{adapter.label} {spec.name} was still queued at its deadline: the service's quota of "
                    f"concurrent jobs stayed full for {int(waited)} s (the timeout is {event.timeout_seconds} s, "
                    f"counted from the Create) and it refused the start with {refusal}. No job was started. "
                    "Raise the construct's timeout, or run fewer jobs of this service at once."
                )
            )
        return None

    def _spec(self, event: ResourceEvent) -> JobSpec:
        adapter = self._adapter(event.adapter_name)
        return JobSpec(
            name=derive_job_name(event, adapter, event.properties),
            request=event.request,
            stack=event.stack_arn,
            requested_at=self._clock(),
            timeout_seconds=event.timeout_seconds,
            bucket_owner=event.properties.get(consts.PROP_BUCKET_OWNER) or None,
        )

    # -- lifecycle --------------------------------------------------------------------------

    def _start(self, event: ResourceEvent, adapter: ExportJobAdapter) -> dict[str, Any]:
        spec = self._spec(event)
        name = spec.name
        adapter.confirm_bucket_owner(spec)
        try:
            job_id = adapter.start(spec)
        except JobConflict as conflict:
            if _keeps_given_name(event):
                raise JobConflict(_named_update_refused(event, adapter, name, conflict)) from None
            raise JobConflict(
                f"{adapter.label} {name!r} already exists with other parameters ({conflict}); "
                "choose another job_name, or leave job_name unset to derive one"
            ) from None
        except Exception as error:
            code = adapter.quota_refusal(error)
            if code is None:
                raise
            LOG.info("%s %s: the service refused the start (%s: %s); queued", adapter.label, name, code, error)
            return {"PhysicalResourceId": queued_id(name), consts.EVENT_QUEUED_AT: spec.requested_at.isoformat()}
        if job_id == event.physical_id:
            LOG.info("%s %s is %s, which has these parameters: kept", adapter.label, name, job_id)
        else:
            LOG.info("%s %s started as %s", adapter.label, name, job_id)
        return {"PhysicalResourceId": job_id}

    # -- modes without a wait in the custom resource ----------------------------------------

    @staticmethod
    def _report_id(event: ResourceEvent) -> dict[str, Any]:
        """The result resource's id: ``report:<job id>``, which no adapter owns, so its Delete
        touches nothing."""
        if event.request_type == "Delete":
            return {"PhysicalResourceId": event.physical_id}
        return {"PhysicalResourceId": consts.REPORT_ID_PREFIX + str(event.properties[consts.PROP_JOB_ID])}

    def _report(self, event: ResourceEvent) -> dict[str, Any]:
        """The long path's result: the job's final attributes, read once the wait condition has
        completed (so the job succeeded, unless it was changed behind the stack's back)."""
        adapter = self._adapter(event.adapter_name)
        job_id = str(event.properties[consts.PROP_JOB_ID])
        state = adapter.describe(job_id)
        if state.phase is not Phase.SUCCEEDED:
            raise JobFailed(f"{adapter.label} {job_id} has status {state.status}, though its wait condition succeeded")
        name = str(event.properties.get(consts.PROP_JOB_NAME, ""))
        uri = str(event.properties.get(consts.PROP_OUTPUT_URI, ""))
        return {"IsComplete": True, "Data": _attributes(job_id, name, uri, state)}

    def _new_wait(self, event: ResourceEvent) -> bool:
        """A kept job in ``signal`` mode needs a tracker for a new wait condition handle."""
        old = event.old_properties or {}
        return event.mode == consts.MODE_SIGNAL and old.get(consts.PROP_WAIT_HANDLE) != event.properties.get(
            consts.PROP_WAIT_HANDLE
        )

    def _tracked(self, raw: Mapping[str, Any], event: ResourceEvent, result: dict[str, Any]) -> dict[str, Any]:
        """In ``signal`` mode, start the tracker execution for the job in ``result``. Its name is
        derived from the job and the wait handle, so a retried Create starts no second one."""
        if event.mode != consts.MODE_SIGNAL:
            return result
        tracked = {**raw, **result}  # the job's id, and when it was queued
        client = self._client_factory("stepfunctions")
        try:
            client.start_execution(
                stateMachineArn=self._tracker_arn(event),
                name=_execution_name(event, result["PhysicalResourceId"]),
                input=json.dumps({"Event": tracked}),
            )
        except Exception as error:
            if error_code(error) != "ExecutionAlreadyExists":
                raise
            LOG.info("the tracker of %s is already running", result["PhysicalResourceId"])
        return result

    def _stop_tracker(self, event: ResourceEvent, adapter: ExportJobAdapter) -> None:
        """Stop the tracker of a job being deleted (best effort: it may have ended already). A
        job that waited in the queue had its tracker started on its ``queued:`` id, before a
        poll started it and the physical id became the job's: that execution is stopped too."""
        if not event.physical_id:
            return
        job_ids = [event.physical_id]
        if adapter.quota_errors and not is_queued(event.physical_id):
            job_ids.append(queued_id(derive_job_name(event, adapter, event.properties)))
        machine = self._tracker_arn(event)
        head, _, name = machine.rpartition(":stateMachine:")
        for job_id in job_ids:
            execution = f"{head}:execution:{name}:{_execution_name(event, job_id)}"
            try:
                self._client_factory("stepfunctions").stop_execution(
                    executionArn=execution, cause="the export job's resource is being deleted"
                )
            except Exception as error:
                if error_code(error) not in ("ExecutionDoesNotExist", "ResourceNotFound"):
                    raise
                LOG.info("no tracker execution %s to stop", execution)

    @staticmethod
    def _tracker_arn(event: ResourceEvent) -> str:
        arn = event.properties.get(consts.PROP_TRACKER)
        if not arn:
            raise ValueError(f"resource property {consts.PROP_TRACKER} is missing in {consts.MODE_SIGNAL} mode")
        return str(arn)

    def _same_job(self, event: ResourceEvent, adapter: ExportJobAdapter) -> bool:
        """An Update that changes nothing the job depends on (e.g. only the timeout) keeps it.

        The request is compared as well as the name: a given ``job_name`` stays the same when
        the request changes. Such an Update goes to :meth:`_start`, whose idempotent
        ``adapter.start`` tells CloudFormation's rollback Update (the job of that name has
        these parameters: it is kept) from a forward one (it has others: :class:`JobConflict`,
        and nothing is started), and starts a genuinely new job where the name is free (a
        Forecast job moved to another forecast).
        """
        old = event.old_properties or {}
        return (
            adapter.owns(event.physical_id)
            and old.get(consts.PROP_REQUEST) == event.properties.get(consts.PROP_REQUEST)
            and derive_job_name(event, adapter, old) == derive_job_name(event, adapter, event.properties)
        )

    def _queued_job(self, event: ResourceEvent, adapter: ExportJobAdapter) -> str:
        """A queued physical id's job, if a poll started it before the resource failed (the
        framework reports no new physical id for a failed poll); else the queued id itself."""
        job_id = event.physical_id or ""
        if is_queued(job_id):
            found = adapter.find(self._spec(event))
            if found is not None:
                LOG.info("queued %s was started as %s", job_id, found[0])
                return found[0]
            LOG.info("%s %s never started: nothing to stop", adapter.label, job_id)
        return job_id

    def _delete(self, event: ResourceEvent, adapter: ExportJobAdapter) -> dict[str, Any]:
        job_id = self._queued_job(event, adapter)
        if adapter.owns(job_id):
            try:
                state = adapter.describe(job_id)
            except JobNotFound:
                LOG.info("%s %s is already gone", adapter.label, job_id)
            else:
                if state.phase is Phase.RUNNING and not adapter.stop(job_id, state):
                    LOG.warning(
                        "%s %s is %s and the service has no API to stop it; it runs to its end. Its S3 output is kept.",
                        adapter.label,
                        job_id,
                        state.status,
                    )
        else:
            LOG.info("physical id %r is not a %s: nothing to delete", job_id, adapter.label)
        return {"PhysicalResourceId": event.physical_id or ""}

    def _delete_done(self, job_id: str, adapter: ExportJobAdapter) -> bool:
        if not adapter.owns(job_id):
            return True
        try:
            state = adapter.describe(job_id)
        except JobNotFound:
            return True
        if state.phase is Phase.RUNNING and adapter.can_stop:
            return False  # stop was requested in on_event; wait for the service to stop it
        return adapter.release(job_id, state)

    def _check_deadline(
        self,
        event: ResourceEvent,
        adapter: ExportJobAdapter,
        job_id: str,
        state: JobState,
        since: datetime | None = None,
    ) -> None:
        """``since``: when a job that was queued was created (the timeout counts from it)."""
        start = since or state.created_at
        if start is None:
            return
        elapsed = (self._clock() - start).total_seconds()
        timeout = event.timeout_seconds
        if elapsed < timeout:
            return
        stopped = adapter.stop(job_id, state)
        what = (
            "the handler asked the service to stop it"
            if stopped
            else "the service has no API to stop it, so it may still be running"
        )
        raise DeadlineExceeded(
            f"{adapter.label} {job_id} did not finish within the timeout of {timeout} s "
            f"(last status {state.status}, {int(elapsed)} s after it was created); {what}. "
            "Raise the construct's timeout if the job needs longer."
        )
