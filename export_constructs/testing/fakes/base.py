"""What every fake service shares: :class:`FakeService`, which serves one service on loopback
(through :class:`.server.LoopbackServer`, every request's signature checked first), plays its
scenario's faults and quota, starts jobs on their status sequence (:mod:`.jobs`), records every
call, and - with an authorizer - has IAM authorize each request and what the service does for
a job; and the error and call records the fakes answer and keep."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ...services import ServiceAccess
from .jobs import FAILURE_REASON, Job, Scenario, VirtualClock
from .server import Answer, LoopbackServer, check_signature

Log = Callable[[str], None]


class ServiceError(Exception):
    """An error answer in the service's own terms."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    @classmethod
    def of(cls, answer: tuple[int, str], message: str) -> ServiceError:
        """The error ``answer`` (HTTP status, error code: a fake's ``not_found``...) with ``message``."""
        status, code = answer
        return cls(code, message, status)


@dataclass
class Call:
    """One request the fake received, as the service saw it."""

    service: str
    """The service's name, e.g. ``"Personalize"``."""
    operation: str
    """The API operation, e.g. ``"CreateDatasetExportJob"``."""
    params: Any
    """The request's parameters as the service parsed them."""
    status: int = 200
    """The HTTP status of the answer."""
    error: str | None = None
    """The error code of the answer (e.g. ``"ThrottlingException"``), or None."""


@dataclass
class IamRequest:
    """What IAM authorizes for one API request (see :meth:`FakeService.iam_request`)."""

    resources: dict[str, str | list[str]]
    """The ARN (or ARNs) of each resource type the request is about, by the Service Authorization
    Reference's type name (``dataset``, ``datasetExportJob``...)."""
    passed_roles: list[tuple[str, str]] = field(default_factory=list)
    """``(role ARN, service principal)`` for each role the request passes."""
    tagged: str = ""
    """The resource the request tags (tags given at create), or empty."""


class FakeService:
    """A fake AWS service on 127.0.0.1 (an ephemeral port) for one scenario.

    Subclasses speak one protocol (``protocol.BotocoreFake`` from botocore's model,
    RoboMaker from the seed documents) and implement the service's operations. Every request
    is checked; what is wrong with one is recorded in :attr:`problems` and answered with the
    service's validation error, so a test can assert that none was found.

    Use it as a context manager (``with fake_class("Personalize")() as fake: ...``), or call
    :meth:`start` and :meth:`close`.

    Args:
        scenario: how the service behaves for every job. Default: :attr:`Scenario.SUCCESS`.
        clock: the simulated time jobs age by. Default: a new :class:`VirtualClock`.
        region: the Region requests must be signed for. Default: ``"us-east-1"``.
        account: the account id in the ARNs and errors the service returns. Default:
            ``"123456789012"``.
        log: called with a line for each job's change of status. Default: silent.
        busy_seconds: with :attr:`Scenario.BUSY`, how long (virtual seconds from the clock's
            start) another stack's jobs fill :attr:`concurrency_quota`. Default: 600.
    """

    access: ClassVar[ServiceAccess | None] = None
    """The export service this fake is (the value its construct reads): its name, its principal,
    what it does for a job (authorized by :meth:`authorize_job`) and its quota. None: a service
    the library only calls (Step Functions)."""
    name: ClassVar[str]
    """The name the engine's resource type and adapter use (``Personalize``...): the
    :attr:`access`'s name."""
    signing_name: ClassVar[str]
    """The SigV4 signing name (from botocore's model, where there is one)."""
    endpoint_env: ClassVar[str]
    """botocore's service-specific endpoint variable (``AWS_ENDPOINT_URL_`` and the service's id),
    honoured by the handler's clients."""
    throttling: ClassVar[tuple[int, str]] = (400, "ThrottlingException")
    """The throttling answer of this service: (HTTP status, error code)."""
    server_error: ClassVar[tuple[int, str]] = (500, "InternalServerException")
    """The server-error answer of this service: (HTTP status, error code)."""
    access_denied: ClassVar[tuple[int, str]] = (400, "AccessDeniedException")
    """The access-denied answer of this service: (HTTP status, error code)."""
    validation_error: ClassVar[tuple[int, str]] = (400, "ValidationException")
    """The answer to a request that breaks the service's model: (HTTP status, error code)."""
    not_found: ClassVar[tuple[int, str]] = (400, "ResourceNotFoundException")
    """The answer about a job that does not exist: (HTTP status, error code)."""
    iam_prefix: ClassVar[str]
    """The service's prefix in IAM actions (``personalize``, ``mobiletargeting``...): its signing
    name."""
    concurrency_quota: ClassVar[int | None] = None
    """How many of the service's jobs one account may run at once (None: none enforced), the
    :attr:`access`'s quota; every start beyond it, whichever stack asks, is refused with
    :attr:`quota_error`."""
    quota_error: ClassVar[tuple[int, str, str]] = (400, "LimitExceededException", "too many jobs")
    """The answer to a start beyond the quota: (HTTP status, error code, message)."""
    running_statuses: ClassVar[frozenset[str]] = frozenset()
    """The statuses of a job that holds a slot of :attr:`concurrency_quota`."""
    job_statuses: ClassVar[tuple[Sequence[str], str, str]] = ((), "", "")
    """What :meth:`statuses` makes a job's sequence of: its statuses on its way to success, its
    final status on success, and on failure ..."""
    failing_statuses: ClassVar[Sequence[str] | None] = None
    """... its statuses before it fails, where they differ from those on its way to success ..."""
    never_statuses: ClassVar[Sequence[str] | None] = None
    """... and those of a job that never ends, where they differ (see :meth:`statuses`)."""

    poll_interval: ClassVar[float] = 0.05
    """How often (seconds) the server's thread looks whether it is to stop: what closing the fake
    may wait."""

    authorizer: Any = None
    """An authorizer (``authorize.Authorizer``) that authorizes every request
    and every access the service makes for a job; None: nothing is authorized."""
    missing_sources: frozenset[str] = frozenset()
    """Sources that do not exist (ARNs; a log group's name; a Pinpoint application id): a job
    started on one fails as the service answers a missing source. Every other source of the
    account and Region exists, whether a stack creates it or not (``simulate(missing_sources=...)``)."""

    scenario: Scenario
    """How the service behaves (the ``scenario`` argument)."""
    clock: VirtualClock
    """The simulated time jobs age by."""
    region: str
    """The Region requests must be signed for."""
    account: str
    """The account id in the ARNs and errors the service returns."""
    log: Log
    """Called with a line for each job's change of status."""
    busy_seconds: float
    """With :attr:`Scenario.BUSY`, how long another stack's jobs fill the quota (the argument)."""
    jobs: dict[str, Job]
    """The jobs the service has started, by id (or name)."""
    calls: list[Call]
    """Every request received, in order, retries and refused ones included."""
    problems: list[str]
    """What was wrong with the requests received (bad parameters, signatures...): empty when
    the handler used the API correctly."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.access is not None:
            cls.name = cls.access.name
            cls.concurrency_quota = cls.access.quota
        if "signing_name" in cls.__dict__:
            cls.iam_prefix = cls.signing_name
            cls.endpoint_env = f"AWS_ENDPOINT_URL_{cls.signing_name.upper()}"

    def __init__(
        self,
        *,
        scenario: Scenario | str = Scenario.SUCCESS,
        clock: VirtualClock | None = None,
        region: str = "us-east-1",
        account: str = "123456789012",
        log: Log | None = None,
        busy_seconds: float = 600.0,
    ) -> None:
        self.scenario = Scenario(scenario)
        self.busy_seconds = busy_seconds
        self.clock = clock or VirtualClock()
        self.region = region
        self.account = account
        self.log: Log = log or (lambda _: None)
        self.jobs: dict[str, Job] = {}
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self._faulted: set[tuple[str, str]] = set()
        self._lock = threading.RLock()
        self._server: LoopbackServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FakeService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start serving on 127.0.0.1, on a free port (see :attr:`url`)."""
        self._server = LoopbackServer(self, self.poll_interval)

    def close(self) -> None:
        """Stop serving; the jobs, calls and problems stay readable."""
        if self._server is not None:
            self._server.close()
        self._server = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the endpoint to give the handler's clients."""
        assert self._server is not None, "the fake service is not started"
        return self._server.url

    # -- what subclasses implement ------------------------------------------------------------

    def dispatch(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        """Parse, check and answer one HTTP request."""
        raise NotImplementedError

    def error_answer(self, error: ServiceError) -> Answer:
        """An error in the protocol's wire format."""
        raise NotImplementedError

    @property
    def partition(self) -> str:
        """The partition of :attr:`region` (``aws``, ``aws-cn``...), for the ARNs the fake builds."""
        return _partition_of(self.region)

    def arn(self, resource: str) -> str:
        """The ARN of this service's ``resource`` (``apps/<id>``) where the fake runs: its
        partition, Region and account, and the service's IAM prefix."""
        return f"arn:{self.partition}:{self.iam_prefix}:{self.region}:{self.account}:{resource}"

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        """What IAM authorizes for ``operation`` with these parameters.

        Args:
            operation: the API operation.
            params: the request's parameters, as the service parsed them.
        """
        raise NotImplementedError(f"{self.name} names no IAM resources for {operation}")

    # -- shared behaviour ---------------------------------------------------------------------

    def authorize(self, operation: str, params: Any, headers: Any) -> ServiceError | None:
        """The service's AccessDenied answer when IAM denies the request (see :attr:`authorizer`).

        Args:
            operation: the API operation.
            params: the request's parameters.
            headers: the HTTP headers (the caller's session token among them).
        """
        if self.authorizer is None:
            return None
        principal = self.authorizer.caller(headers.get("X-Amz-Security-Token"))
        need = self.iam_request(operation, params)
        denied = self.authorizer.check_request(
            principal,
            self.iam_prefix,
            operation,
            need.resources,
            passed_roles=need.passed_roles,
            tag_resource=need.tagged,
        )
        if denied is None:
            return None
        return ServiceError.of(self.access_denied, f"User: {principal} is not authorized to perform: {denied}")

    @property
    def principal(self) -> str:
        """The service principal that runs the jobs, in :attr:`region`."""
        from .arns import dns_suffix_of  # arns raises this module's ServiceError

        assert self.access is not None, f"{self.name} runs no export jobs"
        return self.access.principal_in(self.region, dns_suffix_of(self.region))

    def authorize_job(self, role_arn: str | None, *, source_arn: str, s3_path: str, key_arn: str | None = None) -> str:
        """What the service does for a job started now, as its :attr:`access` says, authorized (see
        ``authorize.Authorizer.check_service``): the reason the job fails with when IAM denies any
        of it, else ``""``.

        Args:
            role_arn: the role the job was given; None where the service assumes none and writes
                as itself (CloudWatch Logs).
            source_arn: the ``aws:SourceArn`` the service sends (the job's or its source's ARN).
            s3_path: where the job writes (``s3://bucket/prefix/``).
            key_arn: the key the job encrypts with. Default: the bucket's default key (of the
                account that owns the bucket: another account's key for its archive bucket).
        """
        if self.authorizer is None:
            return ""
        assert self.access is not None
        bucket, _, prefix = s3_path.removeprefix("s3://").partition("/")
        partition = self.authorizer.policies.partition
        reason = self.authorizer.check_service(
            self.access,
            self.principal,
            role_arn,
            source_arn=source_arn,
            objects=[f"arn:{partition}:s3:::{bucket}/{prefix}export-part-00000"],
            bucket_arn=f"arn:{partition}:s3:::{bucket}",
            key_arn=key_arn or self.authorizer.bucket_key(bucket),
        )
        return reason or ""

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        """Check one HTTP request's SigV4 signature, then :meth:`dispatch` it."""
        with self._lock:
            problems = check_signature(method, path, headers, raw, region=self.region, signing_name=self.signing_name)
            if problems:
                self.problems += problems
                return self.error_answer(ServiceError("InvalidSignatureException", "; ".join(problems), 403))
            return self.dispatch(method, path, headers, raw)

    def check_quota(self) -> None:
        """Refuse a start as the service does when the account's quota of concurrent jobs is
        full: this account's running jobs, and with :attr:`Scenario.BUSY` another stack's, which
        hold every slot for the first ``busy_seconds``.

        Raises:
            ServiceError: :attr:`quota_error`.
        """
        quota = self.concurrency_quota
        if quota is None:
            return
        if self.running_jobs() + (quota if self.busy else 0) >= quota:
            status, code, message = self.quota_error
            raise ServiceError(code, message, status)

    def running_jobs(self) -> int:
        """How many of this account's jobs hold a slot of the quota (are in :attr:`running_statuses`)."""
        return sum(1 for job in self.jobs.values() if job.status in self.running_statuses)

    @property
    def busy(self) -> bool:
        """Whether another stack's jobs fill the quota now (:attr:`Scenario.BUSY`, for the first
        :attr:`busy_seconds`)."""
        return self.scenario is Scenario.BUSY and self.clock.elapsed < self.busy_seconds

    def fault(self, operation: str, job_key: str, *, starts_job: bool = False) -> ServiceError | None:
        """The scenario's injected error for this request, if any: a burst on the first request
        of each operation and job (throttling, 5xx), or a refusal to start a job.

        Args:
            operation: the API operation.
            job_key: the job the request is about.
            starts_job: whether the request starts a job (only those are refused by
                :attr:`Scenario.ACCESS_DENIED`). Default: False.
        """
        if self.scenario is Scenario.ACCESS_DENIED and starts_job:
            return ServiceError.of(
                self.access_denied,
                f"User: arn:{self.partition}:sts::{self.account}:assumed-role/"
                "ExportJobProvider-HandlerRole/OnEvent is not "
                f"authorized to perform: {self.signing_name}:{operation} (simulated)",
            )
        if self.scenario in (Scenario.THROTTLING, Scenario.SERVER_ERRORS):
            key = (operation, job_key)
            if key not in self._faulted:
                self._faulted.add(key)
                if self.scenario is Scenario.THROTTLING:
                    return ServiceError.of(self.throttling, "Rate exceeded (simulated burst)")
                return ServiceError.of(self.server_error, "Internal service error (simulated burst)")
        return None

    def check_fault(self, operation: str, job_key: str, *, starts_job: bool = False) -> None:
        """Raise the scenario's injected error for this request, if any (see :meth:`fault`).

        Args:
            operation: the API operation.
            job_key: the job the request is about.
            starts_job: whether the request starts a job. Default: False.
        """
        if fault := self.fault(operation, job_key, starts_job=starts_job):
            raise fault

    def statuses(self, *, denied: bool = False) -> list[str]:
        """The status sequence a new job follows in this scenario, of :attr:`job_statuses`: its
        running statuses then its succeeded or (after :attr:`failing_statuses`, where set) its
        failed status, or running (:attr:`never_statuses`, where set) for ever.

        Args:
            denied: the job fails whatever the scenario (IAM denied what it needs). Default: False.
        """
        running, succeeded, failed = self.job_statuses
        if self.scenario is Scenario.FAILURE or denied:
            return [*(running if self.failing_statuses is None else self.failing_statuses), failed]
        if self.scenario is Scenario.NEVER_ENDS:
            return list(running if self.never_statuses is None else self.never_statuses)
        return [*running, succeeded]

    def start_job(
        self,
        key: str,
        role_arn: str | None,
        *,
        source_arn: str,
        s3_path: str,
        key_arn: str | None = None,
        failing: bool = False,
        **fields: Any,
    ) -> Job:
        """Start a job ``key`` on :attr:`job_statuses` in this scenario, with the service's own
        ``fields``: it fails (``reason``) where IAM denies what the service does for it, else as
        the scenario says.

        Args:
            key: the job's id (or name).
            role_arn: the role the job was given (see :meth:`authorize_job`).
            source_arn: the ``aws:SourceArn`` the service sends.
            s3_path: where the job writes (``s3://bucket/prefix/``).
            key_arn: the key the job encrypts with. Default: the bucket's default key.
            failing: the job fails whatever the scenario (a fake's ``fail_when``). Default: False.
        """
        denied = self.authorize_job(role_arn, source_arn=source_arn, s3_path=s3_path, key_arn=key_arn)
        statuses = self.statuses(denied=bool(denied) or failing)
        return self.new_job(key, statuses, **fields, reason=denied or FAILURE_REASON)

    def observe(self, operation: str, key: str, missing: str) -> Job:
        """The job ``key`` a describe (``operation``) asks about (see :meth:`job`), moved one status on."""
        job = self.job(operation, key, missing)
        self.advance(job)
        return job

    def job(self, operation: str, key: str, missing: str) -> Job:
        """The job ``key`` for a call of ``operation``: the scenario's fault first, else the
        service's not-found error (message ``missing``) when there is no such job."""
        self.check_fault(operation, key)
        job = self.jobs.get(key)
        if job is None:
            raise ServiceError.of(self.not_found, missing)
        return job

    def new_job(self, key: str, statuses: list[str], /, **fields: Any) -> Job:
        """Start a job ``key`` that moves through ``statuses``, with the service's own ``fields``."""
        job = Job(id=key, statuses=statuses, fields=fields, created=self.clock.stamp())
        self.jobs[key] = job
        self.log(f"  {self.name}: {key} {job.status}")
        return job

    def advance(self, job: Job) -> None:
        """Move ``job`` one status on (each describe does), logging the change, and that of its
        :meth:`progress`."""
        progress = self.progress(job)
        before, after = job.move_on()
        if before != after:
            self.log(f"  {self.name}: {job.id} {before} -> {after}")
        if (moved := self.progress(job)) != progress:
            self.log(f"  {self.name}: {job.id} {moved}")

    def progress(self, job: Job) -> str:
        """How far ``job`` has got, where the service reports more than its status (Pinpoint's
        pieces), for the log. By default nothing."""
        return ""

    def record(self, operation: str, params: Any, error: ServiceError | None = None) -> None:
        """Add a request to :attr:`calls`.

        Args:
            operation: the API operation.
            params: the request's parameters.
            error: the error answered. Default: None, the request succeeded.
        """
        self.calls.append(
            Call(self.name, operation, params, error.status if error else 200, error.code if error else None)
        )


def _partition_of(region: str) -> str:
    from .arns import partition_of  # arns imports this module

    return partition_of(region)
