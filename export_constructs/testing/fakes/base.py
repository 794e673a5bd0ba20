"""What every fake service shares: a loopback HTTP server, a virtual clock, selectable
scenarios, SigV4 checks, and jobs that move through a service's own status sequence."""

from __future__ import annotations

import enum
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

#: The credentials the simulation hands the handler; the fakes recompute signatures with them.
ACCESS_KEY = "AKIDSIMULATEDEXPORT"
SECRET_KEY = "simulated/export/constructs/secret/key/0000"

Log = Callable[[str], None]


class Scenario(enum.StrEnum):
    """How a fake service behaves for every job it is asked to run."""

    SUCCESS = "success"
    """Jobs move through the service's states and succeed."""
    FAILURE = "failure"
    """Jobs fail part-way with a service reason (:data:`FAILURE_REASON`)."""
    NEVER_ENDS = "never-ends"
    """Jobs stay in a running state forever (until stopped, where the API can stop them)."""
    THROTTLING = "throttling"
    """The first request of each operation on each job is throttled (a burst), then all succeed."""
    SERVER_ERRORS = "server-errors"
    """The first request of each operation on each job gets an HTTP 5xx, then all succeed."""
    ACCESS_DENIED = "access-denied"
    """Starting a job is refused with an access-denied error."""
    BUSY = "busy"
    """Jobs of another stack fill the service's concurrency quota (where it has one) for the
    first ``busy_seconds`` of virtual time: every start until then is refused with the service's
    quota error; then jobs succeed."""


FAILURE_REASON = "Simulated failure: the export could not write to the destination (AccessDenied on s3:PutObject)."
"""The reason every fake gives for a job that fails (:attr:`Scenario.FAILURE`)."""


class VirtualClock:
    """Simulated time: the simulation advances it between polls (by the waiter's interval)
    instead of sleeping. The fakes report virtual instants as real timestamps counted from the
    clock's making (:meth:`as_real`), and the simulation hands the handler :meth:`now`, so the
    handler's deadlines and queue waits see simulated time."""

    elapsed: float
    """Simulated seconds since the clock was made."""
    origin: datetime
    """The real time the clock was made: virtual instant 0 as a timestamp."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.origin = datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current virtual instant as a real timestamp."""
        return self.as_real(self.elapsed)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass."""
        with self._lock:
            self.elapsed += seconds

    def stamp(self) -> float:
        """The current virtual instant, to store on a job."""
        return self.elapsed

    def as_real(self, stamp: float) -> datetime:
        """A stored virtual instant as a real timestamp (the clock's making + ``stamp``)."""
        return self.origin + timedelta(seconds=stamp)


class ServiceError(Exception):
    """An error answer in the service's own terms."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


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
class Job:
    """A job moving through a status sequence: each describe moves it one step, the last
    status repeats once reached."""

    id: str
    steps: list[str]
    fields: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    position: int = 0

    @property
    def status(self) -> str:
        return self.steps[min(self.position, len(self.steps) - 1)]

    def step(self) -> tuple[str, str]:
        before = self.status
        self.position = min(self.position + 1, len(self.steps) - 1)
        return before, self.status

    def jump(self, steps: Sequence[str]) -> None:
        """Continue with ``steps`` (e.g. stopping, then stopped) from now on."""
        self.steps = [*self.steps[: self.position + 1], *steps]
        self.position += 1


AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)"
    r"/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def check_signature(
    method: str,
    path: str,
    headers: Any,
    raw: bytes,
    *,
    region: str,
    signing_name: str,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    required: frozenset[str] = frozenset({"host", "x-amz-date"}),
) -> list[str]:
    """Problems with a request's SigV4 signature; recomputes it over the request as it arrived,
    which proves the body and headers sent are the ones that were signed."""
    auth = AUTHORIZATION.fullmatch(headers.get("Authorization", ""))
    if auth is None:
        return [f"Authorization is not a SigV4 header: {headers.get('Authorization')!r}"]
    amz_date = headers.get("X-Amz-Date", "")
    problems = []
    if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
        problems.append(f"X-Amz-Date {amz_date!r} is not yyyymmddThhmmssZ")
    expected = {"key": access_key, "date": amz_date[:8], "region": region, "service": signing_name}
    problems += [f"credential scope {k} is {auth[k]!r}, not {v!r}" for k, v in expected.items() if auth[k] != v]
    signed = auth["signed"].split(";")
    if not required <= set(signed):
        problems.append(f"SignedHeaders {signed} lack one of {sorted(required)}")
    missing = [h for h in signed if headers.get(h) is None]
    if missing:
        return [*problems, f"signed headers {missing} are not in the request"]
    request = AWSRequest(
        method=method, url=f"http://{headers['Host']}{path}", data=raw, headers={h: headers[h] for h in signed}
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, secret_key, headers.get("X-Amz-Security-Token")), signing_name, region)
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if signature != auth["signature"]:
        problems.append("the signature does not match the request")
    return problems


Answer = tuple[int, dict[str, str], bytes]


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

    name: ClassVar[str]
    """The name the engine's resource type and adapter use (``Personalize``...)."""
    signing_name: ClassVar[str]
    """The SigV4 signing name."""
    endpoint_env: ClassVar[str]
    """botocore's service-specific endpoint variable, honoured by the handler's clients."""
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
    iam_prefix: ClassVar[str] = ""
    """The service's prefix in IAM actions (``personalize``, ``mobiletargeting``...)."""
    concurrency_quota: ClassVar[int | None] = None
    """How many of the service's jobs one account may run at once (None: none enforced); every
    start beyond it, whichever stack asks, is refused with :attr:`quota_error`."""
    quota_error: ClassVar[tuple[int, str, str]] = (400, "LimitExceededException", "too many jobs")
    """The answer to a start beyond the quota: (HTTP status, error code, message)."""
    running_statuses: ClassVar[frozenset[str]] = frozenset()
    """The statuses of a job that holds a slot of :attr:`concurrency_quota`."""

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
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FakeService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start serving on 127.0.0.1, on a free port (see :attr:`url`)."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving; the jobs, calls and problems stay readable."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the endpoint to give the handler's clients."""
        assert self._server is not None, "the fake service is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

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
        status, code = self.access_denied
        return ServiceError(code, f"User: {principal} is not authorized to perform: {denied}", status)

    def authorize_job(
        self,
        service_principal: str,
        role_arn: str | None,
        *,
        source_arn: str,
        s3_path: str,
        key_arn: str | None = None,
        service_writes: bool = False,
        role_actions: Sequence[str] = ("s3:PutObject",),
        role_kms_actions: Sequence[str] = (),
        service_kms_actions: Sequence[str] = (),
        bucket_actions: Sequence[str] = ("s3:ListBucket",),
        object_context: Mapping[str, str] | None = None,
    ) -> str:
        """What the service does for a job started now, authorized (see
        ``authorize.Authorizer.check_service``): the reason the
        job fails with when IAM denies any of it, else ``""``.

        Args:
            service_principal: the service, e.g. ``personalize.amazonaws.com``.
            role_arn: the role the job was given; None: the service assumes none and writes as
                itself (CloudWatch Logs).
            source_arn: the ``aws:SourceArn`` the service sends (the job's ARN).
            s3_path: where the job writes (``s3://bucket/prefix/``).
            key_arn: the key the job encrypts with. Default: the bucket's default key.
            service_writes: the service also writes as its own principal. Default: False.
            role_actions: what the role does on the objects. Default: ``s3:PutObject``.
            role_kms_actions: what the service does with the key as the role, directly (not
                through S3). Default: nothing.
            service_kms_actions: what the service does with the key as itself. Default: nothing.
            bucket_actions: with no role, what the service does on the bucket itself. Default:
                ``s3:ListBucket``.
            object_context: with no role, the condition keys each object write carries (e.g.
                ``s3:x-amz-acl``). Default: none.
        """
        if self.authorizer is None:
            return ""
        bucket, _, prefix = s3_path.removeprefix("s3://").partition("/")
        partition = self.authorizer.policies.partition
        key_arn = key_arn or self.authorizer.policies.bucket_keys.get(bucket)
        reason = self.authorizer.check_service(
            service_principal,
            role_arn,
            source_arn=source_arn,
            objects=[f"arn:{partition}:s3:::{bucket}/{prefix}export-part-00000"],
            bucket_arn=f"arn:{partition}:s3:::{bucket}",
            key_arn=key_arn,
            service_writes=service_writes,
            role_actions=role_actions,
            role_kms_actions=role_kms_actions,
            service_kms_actions=service_kms_actions,
            bucket_actions=bucket_actions,
            object_context=object_context,
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
        running = sum(1 for job in self.jobs.values() if job.status in self.running_statuses)
        if self.scenario is Scenario.BUSY and self.clock.elapsed < self.busy_seconds:
            running += quota
        if running >= quota:
            status, code, message = self.quota_error
            raise ServiceError(code, message, status)

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
            status, code = self.access_denied
            return ServiceError(
                code,
                f"User: arn:{self.partition}:sts::{self.account}:assumed-role/"
                "ExportJobProvider-HandlerRole/OnEvent is not "
                f"authorized to perform: {self.signing_name}:{operation} (simulated)",
                status,
            )
        if self.scenario in (Scenario.THROTTLING, Scenario.SERVER_ERRORS):
            key = (operation, job_key)
            if key not in self._faulted:
                self._faulted.add(key)
                if self.scenario is Scenario.THROTTLING:
                    status, code = self.throttling
                    return ServiceError(code, "Rate exceeded (simulated burst)", status)
                status, code = self.server_error
                return ServiceError(code, "Internal service error (simulated burst)", status)
        return None

    def steps(
        self,
        running: Sequence[str],
        succeeded: str,
        failed: str,
        *,
        failing: Sequence[str] | None = None,
        never: Sequence[str] | None = None,
        denied: bool = False,
    ) -> list[str]:
        """The status sequence a new job follows in this scenario: ``running`` then ``succeeded``
        or ``failed``, or ``running`` for ever.

        Args:
            running: the statuses of a job on its way to success.
            succeeded: the final status of a job that succeeds.
            failed: the final status of a job that fails.
            failing: the statuses before ``failed``, where the service's differ from ``running``.
                Default: ``running``.
            never: the statuses of a job that never ends. Default: ``running``.
            denied: the job fails whatever the scenario (IAM denied what it needs). Default: False.
        """
        if self.scenario is Scenario.FAILURE or denied:
            return [*(running if failing is None else failing), failed]
        if self.scenario is Scenario.NEVER_ENDS:
            return list(running if never is None else never)
        return [*running, succeeded]

    def job(self, operation: str, key: str, missing: str) -> Job:
        """The job ``key`` for a call of ``operation``: the scenario's fault first, else the
        service's not-found error (message ``missing``) when there is no such job."""
        if fault := self.fault(operation, key):
            raise fault
        job = self.jobs.get(key)
        if job is None:
            status, code = self.not_found
            raise ServiceError(code, missing, status)
        return job

    def new_job(self, key: str, steps: list[str], /, **fields: Any) -> Job:
        """Start a job ``key`` that moves through ``steps``, with the service's own ``fields``."""
        job = Job(id=key, steps=steps, fields=fields, created=self.clock.stamp())
        self.jobs[key] = job
        self.log(f"  {self.name}: {key} {job.status}")
        return job

    def advance(self, job: Job) -> None:
        """Move ``job`` one status on (each describe does), logging the change."""
        before, after = job.step()
        if before != after:
            self.log(f"  {self.name}: {job.id} {before} -> {after}")

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


def _handler_for(fake: FakeService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The handler's clients keep connections alive and send headers and body apart: without
        # this, Nagle's algorithm and delayed ACKs add ~40 ms to every request.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                status, headers, body = fake.handle(self.command, self.path, self.headers, raw)
            except Exception as error:  # a bug in a fake must not look like a service answer
                fake.problems.append(f"the fake failed on {self.command} {self.path}: {error!r}")
                status, headers, body = 500, {}, json.dumps({"message": repr(error)}).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def iter_pages(items: Sequence[Any], size: int, token: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` from an opaque numeric token."""
    start = int(token) if token and token.isdigit() else 0
    page = list(items[start : start + size])
    following = start + size
    return page, (str(following) if following < len(items) else None)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ordered(jobs: dict[str, Job]) -> Iterator[Job]:
    """Newest first, as the services list jobs."""
    return iter(sorted(jobs.values(), key=lambda j: j.created, reverse=True))
