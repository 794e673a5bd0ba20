"""The one small interface every service adapter implements."""

from __future__ import annotations

import abc
import enum
import itertools
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from botocore.exceptions import ClientError

from ..event import Arn

LOG = logging.getLogger("export_constructs")
T = TypeVar("T")


class Phase(enum.Enum):
    """Where a job is, whatever the service calls its states."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class JobState:
    """One observation of a job."""

    phase: Phase
    status: str
    """The service's own status string (``CREATE IN_PROGRESS``, ``Running``, ...)."""
    created_at: datetime | None = None
    reason: str | None = None
    """The service's failure reason, when it gives one."""
    attributes: Mapping[str, str] = field(default_factory=dict)
    """Extra ``Fn::GetAtt`` attributes; every value is a string, as CloudFormation wants."""


#: CloudFormation waits at most this long for a custom resource, so a retry of the same Create
#: happens within it; the resource's own ``TimeoutSeconds`` narrows it
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-custom-resources.html).
ADOPTION_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class JobSpec:
    """What the engine asks an adapter to start."""

    name: str
    """The job name (or client token), derived or given by the user."""
    request: Mapping[str, Any]
    """The construct's request parameters, in the service's own shape, without the name."""
    stack: Arn
    """The stack's ARN: partition, region and account of the job."""
    requested_at: datetime
    """The engine's clock when it asks for the job: an adapter that looks back for a job it may
    have started already (a retried Create) measures from it."""
    timeout_seconds: int | None = None
    """How long the resource waits for the job (its ``TimeoutSeconds``)."""
    bucket_owner: str | None = None
    """The account that must own the destination bucket (a bucket of another account's): see
    :meth:`ExportJobAdapter.confirm_bucket_owner`. None: not checked."""

    @property
    def retried_since(self) -> datetime:
        """How far back a job this Create started before a retry can be: a retried Create comes
        from the same custom-resource request (even on the long-wait path), within its timeout and
        CloudFormation's hour (:data:`ADOPTION_WINDOW_SECONDS`)."""
        timeout = self.timeout_seconds
        window = min(int(timeout), ADOPTION_WINDOW_SECONDS) if timeout else ADOPTION_WINDOW_SECONDS
        return self.requested_at - timedelta(seconds=window)


class JobNotFound(Exception):
    """The job does not exist (any more)."""


class JobConflict(Exception):
    """A job with this name exists but was started with other parameters."""


class BucketNotOwned(Exception):
    """S3 refused to confirm that the destination bucket is the expected account's: no job was
    started."""


ClientFactory = Callable[[str], Any]

#: What one text may take of CloudFormation's custom-resource response, which is at most 4,096
#: bytes of JSON (its whole body: Status, Reason, the ids and Data). Counted in bytes of UTF-8
#: once JSON-escaped, as the Provider framework's cfn-response.js sends it (JSON.stringify, then
#: Buffer.byteLength), not in characters. See :data:`MAX_REASON_BYTES` for failures.
MAX_TEXT_BYTES = 1000
#: A failure's message, within the same 4,096 bytes: the framework's ``Reason`` is the Node error's
#: stack, ``Error: <message>\n\nLogs: /aws/lambda/<function>\n\n    at ...`` with up to 10 frames
#: (``runtime/framework.js`` and ``cfn-response.js`` of aws-cdk-lib's Provider framework: ~1 KB
#: beyond the message), and the body also holds the stack id (up to ~230 bytes), the request id,
#: the physical id (a job ARN: up to ~300) and the logical id (up to 255).
MAX_REASON_BYTES = 1800


def json_size(text: str) -> int:
    """The bytes ``text`` takes inside a JSON string as UTF-8 (quotes, backslashes and control
    characters escaped, as JSON.stringify does)."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def shorten(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """``text``, or its beginning ending in ``...``, at most ``limit`` bytes by :func:`json_size`
    (never cut inside a character)."""
    if json_size(text) <= limit:
        return text
    room, end = limit - 3, 0
    for index, char in enumerate(text):
        room -= json_size(char)
        if room < 0:
            break
        end = index + 1
    return text[:end] + "..."


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError``, or of a service error that carries its
    own string ``code`` (RoboMaker's signed calls); ``""`` for any other exception."""
    response = getattr(error, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code", ""))
    code = getattr(error, "code", None)
    return code if isinstance(code, str) else ""


def phase_map(*, succeeded: Iterable[str], failed: Iterable[str]) -> Mapping[str, Phase]:
    """:attr:`ExportJobAdapter.phases` of a service whose other statuses all mean running."""
    return MappingProxyType({**dict.fromkeys(succeeded, Phase.SUCCEEDED), **dict.fromkeys(failed, Phase.FAILED)})


#: An epoch number above this is in milliseconds (1e11 seconds is the year 5138).
_MILLIS_THRESHOLD = 1e11


def parse_time(value: Any) -> datetime | None:
    """A described job's time as its service gives it: a datetime (botocore's), an ISO 8601 string
    (Pinpoint's ``2026-11-22T11:00:00.123Z``), or epoch seconds or milliseconds (RoboMaker's
    ``createdAt``: its API reference says milliseconds, REST-JSON sends seconds); a time without a
    zone is UTC. None for anything else (logged when it is a string)."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            LOG.warning("unreadable date %r", value)
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > _MILLIS_THRESHOLD else value, UTC)
    return None


def from_properties(members: Mapping[str, Any], *, integers: Iterable[str] = ()) -> dict[str, Any]:
    """``members`` as the API takes them, where CloudFormation handed them over as strings (it
    passes every custom-resource property as one): those None or empty left out, ``integers`` as
    ints (``"3"`` -> 3), the others as strings.

    Raises:
        ValueError: a member of ``integers`` is not an integer."""
    typed: dict[str, Any] = {}
    for member, value in members.items():
        if value not in (None, ""):
            try:
                typed[member] = int(str(value)) if member in integers else str(value)
            except ValueError:
                raise ValueError(f"{member} must be an integer, got {value!r}") from None
    return typed


def described_path(job: Mapping[str, Any], path: tuple[str, ...]) -> str:
    """The member ``path`` leads to in a described ``job``, or ``"?"`` where it has none."""
    value: Any = job
    for member in path[:-1]:
        value = value.get(member, {})
    return str(value.get(path[-1], "?"))


class ExportJobAdapter(abc.ABC):
    """Starts, observes and stops one service's export jobs.

    Adapters raise on errors (the engine turns an exception into FAILED) and never talk to
    CloudFormation. Throttling and 5xx are retried by the client's retry configuration. An
    engine builds each adapter once and keeps it for every later event: adapters hold clients,
    never per-job state.
    """

    #: Human name used in messages, e.g. ``"Personalize dataset export job"``.
    label: ClassVar[str]
    #: Rules for derived job names.
    name_max_length: ClassVar[int] = 63
    name_invalid_chars: ClassVar[re.Pattern[str]] = re.compile(r"[^A-Za-z0-9_]")
    #: A physical id this adapter owns; anything else on Delete is left alone.
    job_id_pattern: ClassVar[re.Pattern[str]]
    #: The boto3 client the adapter calls (``"personalize"``; RoboMaker's signs its own calls).
    client_name: ClassVar[str] = ""
    #: Error codes of a describe (or lookup) for a job that does not exist: :class:`JobNotFound`.
    not_found_errors: ClassVar[frozenset[str]] = frozenset({"ResourceNotFoundException"})
    #: The status of a job the service is already stopping (its stop needs no request).
    stopping_status: ClassVar[str] = ""
    #: Error codes of the stop request for a job that does not exist (any more): it is stopped.
    stop_gone_errors: ClassVar[frozenset[str]] = frozenset()
    #: Error codes of the stop request for a job that is not running: stopped when a describe
    #: confirms it ended between the last poll and the stop.
    stop_ended_errors: ClassVar[frozenset[str]] = frozenset()
    #: Error codes of :meth:`start` that mean "the account's quota of concurrent jobs is full,
    #: try later": the engine queues the job and tries the start again at every later poll.
    #: Each adapter says where its code is documented (the quota itself is the construct's
    #: ``SERVICE.quota``). Throttling is not one of them (botocore retries it).
    quota_errors: ClassVar[frozenset[str]] = frozenset()
    # What the default :meth:`describe`, :meth:`output_uri` and adoption read: most services
    # describe a job the same way, so each says only where its answers keep what.
    #: The service's statuses and the phase each means; any other status is running (the
    #: handler's deadline still bounds it).
    phases: ClassVar[Mapping[str, Phase]] = {}
    #: The describe call of a job known by its id: (client method, its parameter for the id, the
    #: answer's member that holds the job, or ``""`` for the whole answer).
    describe_call: ClassVar[tuple[str, str, str]] = ("", "", "")
    #: The described job's members for its status, its creation time and its failure reason.
    state_members: ClassVar[tuple[str, str, str]] = ("", "", "")
    #: Where set, the members that say why a job failed instead of ``state_members``' third,
    #: those given joined with ``: `` (RoboMaker's code and reason) ...
    reason_members: ClassVar[tuple[str, ...]] = ()
    #: ... and the reason of a status when they give none (``CREATE_STOPPED``: the job was stopped).
    ended_reasons: ClassVar[Mapping[str, str]] = {}
    #: Where the request (and a described job) holds the ``s3://`` path, member by member.
    output_path: ClassVar[tuple[str, ...]] = ()
    #: The members, with the service's default, a described job must share with the request to be
    #: adopted by a retried Create (the first is the source, named in the conflict's message).
    adopt_members: ClassVar[tuple[tuple[str, Any], ...]] = ()
    #: Where jobs have no name nor client token, the listing a retried Create finds its job in
    #: (:meth:`_listed`): the client method, the answer's member that holds the page (``""``: the
    #: whole answer), the page's member of jobs, and the request's and the page's token members ...
    list_call: ClassVar[tuple[str, str, str, str, str]] = ("", "", "", "", "")
    #: ... of which a Create reads at most this many pages (None: every page).
    max_list_pages: ClassVar[int | None] = 5

    # Where the service keeps an ended job's record, and its name taken, until the record is
    # deleted (Forecast), :meth:`release` deletes it:
    #: the delete call (client method, its parameter for the id), made once the job has ended ...
    delete_call: ClassVar[tuple[str, str]] = ("", "")
    #: ... in one of these statuses (any other is left in place with a warning); ...
    deletable_statuses: ClassVar[frozenset[str]] = frozenset()
    #: ... the statuses of a deletion under way, and that of a failed one (left in place); ...
    deleting_statuses: ClassVar[frozenset[str]] = frozenset()
    delete_failed_status: ClassVar[str] = ""
    #: ... and the errors of a deletion the service refuses (deleted concurrently, or a state it
    #: will not delete from): left in place, as waiting would only hold the stack until
    #: CloudFormation's hour is up.
    delete_refused_errors: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, client_factory: ClientFactory) -> None:
        self._client_factory = client_factory

    @property
    def _client(self) -> Any:
        return self._client_factory(self.client_name)

    @property
    def can_stop(self) -> bool:
        """Whether the service has an API to stop a running job: the adapter implements
        :meth:`request_stop` (see :meth:`stop`)."""
        return type(self).request_stop is not ExportJobAdapter.request_stop

    def _found(self, job_id: str, call: Callable[[], T]) -> T:
        """``call()``, a request about ``job_id``; :class:`JobNotFound` when the service answers one
        of :attr:`not_found_errors`."""
        try:
            return call()
        except Exception as error:
            if error_code(error) in self.not_found_errors:
                raise JobNotFound(job_id) from error
            raise

    def owns(self, physical_id: str | None) -> bool:
        return bool(physical_id) and bool(self.job_id_pattern.fullmatch(physical_id or ""))

    @abc.abstractmethod
    def start(self, spec: JobSpec) -> str:
        """Start the job and return its id (the physical id).

        Must be idempotent: when a job with ``spec.name`` already exists with the same
        parameters, return its id instead of starting another; raise :class:`JobConflict`
        when it exists with other parameters.
        """

    def confirm_bucket_owner(self, spec: JobSpec) -> None:
        """Before a start into a bucket of another account: S3's answer to a GetBucketLocation
        with ``ExpectedBucketOwner`` = :attr:`JobSpec.bucket_owner`. The export APIs take no bucket
        owner, so a bucket name taken by another account would otherwise receive the export. S3
        refuses with 403 when the bucket has another owner
        (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html).

        Raises:
            BucketNotOwned: S3 refused (a wrong owner, or no right to s3:GetBucketLocation).
        """
        if not spec.bucket_owner:
            return
        bucket = self.output_uri(spec.request).removeprefix("s3://").split("/", 1)[0]
        try:
            self._client_factory("s3").get_bucket_location(Bucket=bucket, ExpectedBucketOwner=spec.bucket_owner)
        except ClientError as error:
            if error_code(error) not in ("AccessDenied", "403"):
                raise
            raise BucketNotOwned(
                shorten(
                    f"S3 refused to confirm that the bucket {bucket} is owned by account {spec.bucket_owner} "
                    f"(GetBucketLocation with ExpectedBucketOwner: {error_code(error)}): the bucket belongs to "
                    f"another account, or its policy does not let account {spec.stack.account} "
                    "s3:GetBucketLocation. No export was started and nothing was written."
                )
            ) from None
        LOG.info("the bucket %s is owned by account %s, as expected", bucket, spec.bucket_owner)

    def quota_refusal(self, error: BaseException) -> str | None:
        """The code of ``error`` when it is one of :attr:`quota_errors`, else None."""
        code = error_code(error)
        return code if code and code in self.quota_errors else None

    def find(self, spec: JobSpec) -> tuple[str, JobState] | None:
        """The id and state of the job ``spec.name`` started, when the service knows it (None:
        not found, or no way to look it up). A queued job's later polls look here before they
        try the start again, so a job accepted at an earlier poll is not refused as over the
        quota. By default: :meth:`job_id_of`, described."""
        job_id = self.job_id_of(spec)
        if job_id is None:
            return None
        try:
            return job_id, self.describe(job_id)
        except JobNotFound:
            return None

    def job_id_of(self, spec: JobSpec) -> str | None:
        """The id the job of ``spec.name`` has once started, where the name decides it (a job
        ARN holding the name) or a listing finds it by its name; None where neither can (the
        default)."""
        return None

    def describe(self, job_id: str) -> JobState:
        """Observe the job; raise :class:`JobNotFound` when it does not exist. By default: the job
        :attr:`describe_call` answers, read by :meth:`_state`."""
        return self._state(self._describe_raw(job_id))

    def _state(self, job: Mapping[str, Any]) -> JobState:
        """The described (or listed) ``job``, read as :attr:`state_members` and :attr:`phases` say."""
        status_member, created_member, _ = self.state_members
        status = str(job.get(status_member, ""))
        return JobState(
            phase=self.phase_of(status),
            status=status,
            created_at=parse_time(job.get(created_member)),
            reason=self._reason(job, status),
            attributes=self._attributes(job),
        )

    def phase_of(self, status: str) -> Phase:
        """The phase ``status`` means (:attr:`phases`; running where they do not say)."""
        return self.phases.get(status, Phase.RUNNING)

    def _reason(self, job: Mapping[str, Any], status: str) -> str | None:
        """Why the described ``job`` failed: its member :attr:`state_members` names, or its
        :attr:`reason_members` and :attr:`ended_reasons` where they are set."""
        if not self.reason_members:
            reason: str | None = job.get(self.state_members[2])
            return reason
        given = ": ".join(str(job[member]) for member in self.reason_members if job.get(member))
        return given or self.ended_reasons.get(status)

    def _attributes(self, job: Mapping[str, Any]) -> Mapping[str, str]:
        """The service's own ``Fn::GetAtt`` attributes of the described ``job``. By default none."""
        return {}

    def _describe_raw(self, job_id: str) -> Mapping[str, Any]:
        """The job as :attr:`describe_call` answers it; :class:`JobNotFound` when there is none."""
        method, parameter, member = self.describe_call
        response = self._found(job_id, lambda: getattr(self._client, method)(**{parameter: job_id}))
        job: Mapping[str, Any] = response[member] if member else response
        return job

    def _create_or_adopt(self, spec: JobSpec, create: Callable[[], Mapping[str, Any]], id_member: str) -> str:
        """The id (``id_member``) of the job ``create()`` starts; a name already taken
        (``ResourceAlreadyExistsException``) is a retried Create's: :meth:`_adopt` its job."""
        try:
            response = create()
        except ClientError as error:
            if error_code(error) != "ResourceAlreadyExistsException":
                raise
            return self._adopt(spec)
        return str(response[id_member])

    def _adopt(self, spec: JobSpec) -> str:
        """A retried Create: take over the job this name already started, if it is the same (its
        :attr:`adopt_members` equal the request's), else :class:`JobConflict`."""
        job_id = str(self.job_id_of(spec))
        job = self._describe_raw(job_id)
        if any(job.get(member, default) != spec.request.get(member, default) for member, default in self.adopt_members):
            raise JobConflict(f"existing job {job_id} {self._conflict(job)}")
        return job_id

    def _listed(self, of: str, **params: Any) -> Iterator[Mapping[str, Any]]:
        """The jobs :attr:`list_call` lists with ``params`` (the jobs ``of`` what, for the log), page
        by page, at most :attr:`max_list_pages` pages (logged when there are more)."""
        method, answer_member, items, token_in, token_out = self.list_call
        token: str | None = None
        pages = itertools.count() if self.max_list_pages is None else range(self.max_list_pages)
        for _ in pages:
            answer = getattr(self._client, method)(**params, **({token_in: token} if token else {}))
            page = answer[answer_member] if answer_member else answer
            yield from page.get(items) or []
            token = page.get(token_out)
            if not token:
                return
        LOG.warning("looked at %d pages of %ss of %s only", self.max_list_pages, self.label, of)

    def _adoptable(self, jobs: Iterable[Mapping[str, Any]], since: datetime, id_member: str) -> str | None:
        """Where a service gives its jobs neither a name nor a client token, the id (``id_member``)
        of the job a retried Create started, among ``jobs`` (listed, of the request's definition):
        a running one, else the newest that succeeded and was created at ``since`` or later
        (:attr:`JobSpec.retried_since`); a failed job never. Their status and creation time are
        :attr:`state_members`."""
        status_member, created_member, _ = self.state_members
        candidates: list[tuple[bool, datetime, str]] = []
        for job in jobs:
            phase, created = self.phase_of(str(job.get(status_member, ""))), parse_time(job.get(created_member))
            running = phase is Phase.RUNNING
            if running or (phase is Phase.SUCCEEDED and created is not None and created >= since):
                candidates.append((running, created or since, str(job[id_member])))
        return max(candidates)[2] if candidates else None  # running first, then the newest

    def _conflict(self, job: Mapping[str, Any]) -> str:
        """What the described ``job`` does, for the message of a conflict with it."""
        return f"exports {job.get(self.adopt_members[0][0])} to {described_path(job, self.output_path)}"

    def stop(self, job_id: str, state: JobState) -> bool:
        """Ask the service to stop a running job, last seen as ``state``: nothing to ask when it
        is :attr:`stopping_status` already; a job that is gone, or that ended between the last
        poll and the stop, counts as stopped (the errors :attr:`stop_gone_errors` and
        :attr:`stop_ended_errors`). Return False when the API has no way to (not
        :attr:`can_stop`); adapters that can stop implement :meth:`request_stop`. The job's S3
        output so far is kept."""
        if not self.can_stop:
            return False
        if self.stopping_status and state.status.upper() == self.stopping_status.upper():
            return True
        try:
            self.request_stop(job_id)
        except Exception as error:
            code = error_code(error)
            if code in self.stop_gone_errors:
                return True
            if code in self.stop_ended_errors and not self._still_running(job_id):
                return True
            raise
        LOG.info("%s %s: stop requested (its S3 output so far is kept)", self.label, job_id)
        return True

    def request_stop(self, job_id: str) -> None:
        """Send the service's stop (or cancel) request for ``job_id``; raise its error. Adapters of
        services with such an API implement it (and so :attr:`can_stop`)."""
        raise NotImplementedError(f"{self.label}: the service has no API to stop a job")

    def _still_running(self, job_id: str) -> bool:
        try:
            return self.describe(job_id).phase is Phase.RUNNING
        except JobNotFound:
            return False

    def release(self, job_id: str, state: JobState) -> bool:
        """Called on Delete (and its polls) once the job is not running any more, or cannot be
        stopped. Return True when nothing is left to wait for. Never deletes S3 output. By default
        nothing is left, or where the service keeps the job's record (:attr:`delete_call`), it is
        deleted so its name is free again: False while the deletion is under way (the next poll
        sees it gone)."""
        method, parameter = self.delete_call
        if not method:
            return True
        if state.status in self.deleting_statuses:
            return False
        if state.status == self.delete_failed_status:
            LOG.warning(
                "%s %s: its service failed to delete it (%s); leaving it in place. Its S3 output is kept.",
                self.label,
                job_id,
                state.reason or "no reason given",
            )
            return True
        if state.status not in self.deletable_statuses:
            LOG.warning("%s %s is %s: not deleting it; its S3 output is kept.", self.label, job_id, state.status)
            return True
        try:
            getattr(self._client, method)(**{parameter: job_id})
        except Exception as error:
            code = error_code(error)
            if code in self.not_found_errors:
                return True
            if code in self.delete_refused_errors:
                LOG.warning(
                    "%s %s (%s): its service refused to delete it (%s); leaving it in place. Its S3 output is kept.",
                    self.label,
                    job_id,
                    state.status,
                    error,
                )
                return True
            raise
        LOG.info("%s %s: deletion requested (its S3 output is kept)", self.label, job_id)
        return False

    def output_uri(self, request: Mapping[str, Any]) -> str:
        """The ``s3://`` URI the job writes to. By default: the request's :attr:`output_path`."""
        value: Any = request
        for member in self.output_path:
            value = value[member]
        return str(value)

    # -- recurring exports ------------------------------------------------------------------

    def for_window(self, request: Mapping[str, Any], source: str, start: int, end: int, prefix: str) -> dict[str, Any]:
        """The request of a recurring export's window ``[start, end)`` (epoch ms) of ``source``,
        written under ``prefix`` (ending in ``/``): the export's request with the source, the
        window's range and prefix. Services without recurring exports have none."""
        raise NotImplementedError(f"{self.label}s have no recurring export")

    def source_label(self, source: str) -> str:
        """What a recurring export's prefix shows of ``source`` (its ``{source}`` placeholder).
        By default the source itself."""
        return source

    def snapshot(self, arn: str, *, automated: bool) -> tuple[str, int] | None:
        """A snapshot export's snapshot: the ARN of what it was taken of and when (epoch ms), or
        None when there is no such snapshot. Services without snapshot exports have none."""
        raise NotImplementedError(f"{self.label}s have no snapshot export")

    def backup_snapshot(self, job_id: str) -> tuple[str, str, int] | None:
        """The snapshot an AWS Backup job made, what of and when (epoch ms), or None. Services
        without snapshot exports have none."""
        raise NotImplementedError(f"{self.label}s have no snapshot export")

    def look_before_start(self, spec: JobSpec) -> tuple[tuple[str, JobState] | None, bool]:
        """Before a recurring window's start: the running job already started as ``spec`` (a
        retried invocation's: adopted, not started twice), and whether the account's quota has no
        free slot for another (the start then waits without asking). Default: the job :meth:`find`
        finds if it is running; the quota is left to the service's answer."""
        found = self.find(spec)
        return (found if found is not None and found[1].phase is Phase.RUNNING else None), False

    def start_new(self, spec: JobSpec) -> str:
        """Start ``spec``'s job where :meth:`look_before_start` found none. Default: :meth:`start`."""
        return self.start(spec)
