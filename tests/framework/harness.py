"""CloudFormation, Lambda and Step Functions around the CDK Provider framework's own code.

The framework functions of a synthesized Provider (``framework.js``, ``cfn-response.js``,
``outbound.js``... of aws-cdk-lib, from the cloud assembly's framework asset) run unmodified in
one Node.js process (``driver.cjs``). Everything they reach is served here, on 127.0.0.1:

- Lambda ``Invoke`` and Step Functions ``StartExecution`` (:class:`AwsEndpoint`), which the
  framework calls through the AWS SDK v3 for JavaScript pointed here by ``AWS_ENDPOINT_URL``. An
  Invoke runs the template's Python user function (onEvent / isComplete of the handler's code
  asset) and answers as Lambda does, a failure with the Python runtime's error payload.
- The pre-signed S3 URL CloudFormation hands out as ``ResponseURL`` (:class:`ResponseEndpoint`),
  over TLS: it keeps the exact bytes CloudFormation would receive.
- The waiter state machine, played from the template's own definition on a virtual clock
  (:meth:`Deployment.send`), its tasks being the framework's isComplete and onTimeout.

The export services are the fakes of ``export_constructs.testing``, started as ``simulate()``
starts them.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import ssl
import subprocess
import threading
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from export_constructs.testing import FakeService, Scenario, VirtualClock, fake_class
from export_constructs.testing.assembly import JobResource, StackTemplate, UserFunction
from export_constructs.testing.fakes.arns import dns_suffix_of, partition_of
from export_constructs.testing.fakes.server import ACCESS_KEY, SECRET_KEY, check_signature
from export_constructs.testing.resolver import Pseudo, Resolver, stringify
from export_constructs.testing.sandbox import Function, aws_environment

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.cjs")
#: What outbound.js requires; Lambda's Node.js runtimes provide them, package.json pins them here.
SDK_PACKAGES = ("@aws-sdk/client-lambda", "@aws-sdk/client-sfn")
#: cfn-response.js's physical id for a Create that failed before it had one; the Delete
#: CloudFormation then sends is answered SUCCESS without calling the handler.
CREATE_FAILED_MARKER = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
#: The largest response body CloudFormation accepts from a custom resource
#: (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html).
MAX_RESPONSE_BYTES = 4096
#: How long one framework function may run (real seconds) before the harness gives up on it.
CALL_TIMEOUT = 60.0


class FrameworkUnavailable(RuntimeError):
    """Node.js or the pinned SDK packages are missing."""


def check_installation() -> str:
    """The ``node`` executable, once the SDK packages are installed as package.json pins them.

    Raises:
        FrameworkUnavailable: what is missing, and that ``npm ci`` installs it.
    """
    node = shutil.which("node")
    if node is None:
        raise FrameworkUnavailable("the framework tests need Node.js: `node` is not on PATH")
    pins = json.loads((REPO / "package.json").read_text())["devDependencies"]
    problems = []
    for name in SDK_PACKAGES:
        manifest = REPO / "node_modules" / name / "package.json"
        if name not in pins:
            problems.append(f"package.json does not pin {name}")
        elif not manifest.is_file():
            problems.append(f"{name} is not installed")
        elif (found := json.loads(manifest.read_text())["version"]) != pins[name]:
            problems.append(f"{name} {found} is installed but package.json pins {pins[name]}")
    if problems:
        raise FrameworkUnavailable(
            "; ".join(problems) + f": run `npm ci` in {REPO} (`make test` does) to install the pinned npm packages"
        )
    return node


# -- CloudFormation's end: the pre-signed S3 URL ----------------------------------------------


def response_host(region: str) -> str:
    """The host of the pre-signed URLs CloudFormation sends in ``ResponseURL`` (e.g.
    ``cloudformation-custom-resource-response-useast1.s3.amazonaws.com``)."""
    return f"cloudformation-custom-resource-response-{region.replace('-', '')}.s3.amazonaws.com"


def response_url(host: str, stack_id: str, logical_id: str, request_id: str) -> str:
    """A ``ResponseURL`` shaped as CloudFormation's: the object key is ``<stack id>|<logical
    id>|<request id>``, then a SigV4 query string
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html)."""
    key = urllib.parse.quote(f"{stack_id}|{logical_id}|{request_id}", safe="/")
    query = urllib.parse.urlencode(
        {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Date": "20261201T000000Z",
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Expires": "7200",
            "X-Amz-Credential": "AKIAIOSFODNN7EXAMPLE/20261201/us-east-1/s3/aws4_request",
            "X-Amz-Signature": "0" * 64,
        }
    )
    return f"https://{host}/{key}?{query}"


def _self_signed(host: str, directory: Path) -> tuple[Path, Path]:
    """A certificate for ``host`` and its key, made now; the driver trusts only it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "response-endpoint.crt", directory / "response-endpoint.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass
class Received:
    """One request the response URL received: what CloudFormation would read."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    server_name: str | None
    """The TLS server name (SNI) the client asked for."""

    @property
    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class _Server:
    """A threaded HTTP server on 127.0.0.1 (an ephemeral port), stopped by :meth:`close`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext | None = None) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        if context is not None:
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class ResponseEndpoint:
    """The ``ResponseURL``'s host over TLS, with a certificate made for it at start."""

    def __init__(self, host: str, directory: Path) -> None:
        self.host = host
        self.ca_file, key_file = _self_signed(host, directory)
        self.received: list[Received] = []
        self.problems: list[str] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)

        def remember_name(sock: Any, server_name: str | None, _context: ssl.SSLContext) -> None:
            sock.server_name_asked = server_name

        context.sni_callback = remember_name
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                endpoint.received.append(
                    Received(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        getattr(self.connection, "server_name_asked", None),
                    )
                )
                self.send_response(200)
                self.send_header("ETag", '"d41d8cd98f00b204e9800998ecf8427e"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _refuse(self) -> None:
                endpoint.problems.append(f"the response URL received {self.command} {self.path}")
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_DELETE = _refuse

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(Handler, context)

    @property
    def port(self) -> int:
        return self._server.port

    def close(self) -> None:
        self._server.close()


# -- Lambda and Step Functions ------------------------------------------------------------------


@dataclass
class Invocation:
    """One Lambda Invoke of a user function."""

    function_arn: str
    event: Any
    function_error: str | None
    """``Unhandled`` when the function raised (Lambda's ``X-Amz-Function-Error``), else None."""
    payload: Any
    """The answer's payload, parsed: the function's result, or the runtime's error payload."""


@dataclass
class Execution:
    """One StartExecution of the waiter state machine."""

    arn: str
    state_machine_arn: str
    input: str


LambdaTarget = Callable[[str, bytes], tuple[str | None, bytes] | None]


class AwsEndpoint:
    """Lambda's Invoke and Step Functions' StartExecution, as the SDK v3 calls them (REST-JSON
    ``POST /2015-03-31/functions/<name>/invocations``; JSON 1.0 ``AWSStepFunctions.StartExecution``),
    with their SigV4 signatures checked. Invokes go to :attr:`target`, the current deployment."""

    def __init__(self, region: str, account: str) -> None:
        self.region = region
        self.account = account
        self.target: LambdaTarget | None = None
        self.invocations: list[Invocation] = []
        self.executions: list[Execution] = []
        self.problems: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    status, headers, body = endpoint._dispatch(self.path, self.headers, raw)
                except Exception as error:  # a bug here must not look like an AWS answer
                    endpoint.problems.append(f"the endpoint failed on POST {self.path}: {error!r}")
                    status, headers, body = 500, {}, b"{}"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _refuse(self) -> None:
                endpoint.problems.append(f"unexpected request {self.command} {self.path}")
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_DELETE = _refuse

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    def close(self) -> None:
        self._server.close()

    def _signed(self, path: str, headers: Any, raw: bytes, signing_name: str) -> bool:
        problems = check_signature("POST", path, headers, raw, region=self.region, signing_name=signing_name)
        self.problems += [f"{signing_name} {path}: {p}" for p in problems]
        return not problems

    def _dispatch(self, path: str, headers: Any, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        prefix, suffix = "/2015-03-31/functions/", "/invocations"
        if path.startswith(prefix) and path.endswith(suffix):
            if not self._signed(path, headers, raw, "lambda"):
                return 403, {}, b'{"message":"signature"}'
            return self._invoke(urllib.parse.unquote(path[len(prefix) : -len(suffix)]), headers, raw)
        if headers.get("X-Amz-Target") == "AWSStepFunctions.StartExecution":
            if not self._signed(path, headers, raw, "states"):
                return 403, {}, b'{"message":"signature"}'
            return self._start_execution(raw)
        self.problems.append(f"unexpected request POST {path} ({headers.get('X-Amz-Target')})")
        return 400, {}, b"{}"

    def _invoke(self, function: str, headers: Any, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        kind = headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind != "RequestResponse":
            self.problems.append(f"Invoke of {function} with InvocationType {kind}")
        answer = self.target(function, raw) if self.target is not None else None
        if answer is None:
            self.problems.append(f"Invoke of {function}, which is no Python function of the deployment")
            error = {"Type": "User", "message": f"Function not found: {function}"}
            return 404, {"x-amzn-ErrorType": "ResourceNotFoundException"}, json.dumps(error).encode()
        function_error, body = answer
        self.invocations.append(Invocation(function, json.loads(raw), function_error, json.loads(body)))
        # The Invoke answer (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
        # 200 with the payload; a function error is the header X-Amz-Function-Error, not a status.
        answer_headers = {
            "Content-Type": "application/json",
            "X-Amz-Executed-Version": "$LATEST",
            "x-amzn-RequestId": str(uuid.uuid4()),
        }
        if function_error is not None:
            answer_headers["X-Amz-Function-Error"] = function_error
        return 200, answer_headers, body

    def _start_execution(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        request = json.loads(raw)
        machine = str(request["stateMachineArn"])
        head, _, name = machine.rpartition(":stateMachine:")
        arn = f"{head}:execution:{name}:{uuid.uuid4()}"
        self.executions.append(Execution(arn, machine, str(request["input"])))
        body = json.dumps({"executionArn": arn, "startDate": datetime.now(UTC).timestamp()})
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body.encode()


class PythonLambda:
    """A Python user function as Lambda's Python runtime runs it: the JSON event in, the JSON
    result out, or for an exception the runtime's error payload with ``X-Amz-Function-Error:
    Unhandled``. The handler code is imported from its asset folder in a namespace of its own
    (``Function`` of the simulation: one Lambda container), on the virtual clock."""

    def __init__(self, spec: UserFunction, environment: Mapping[str, str], clock: VirtualClock) -> None:
        self.spec = spec
        self.function = Function(spec, environment)
        self.function.use_clock(clock.now)

    def invoke(self, payload: bytes) -> tuple[str | None, bytes]:
        request_id = str(uuid.uuid4())
        try:
            result = self.function(json.loads(payload))
        except Exception as error:
            return "Unhandled", _to_json(runtime_error(error, request_id, self.spec.asset_dir))
        return None, _to_json(result)


def _to_json(value: Any) -> bytes:
    """The runtime's marshalling: simplejson with ``ensure_ascii=False`` on python3.12 and later
    (default separators), UTF-8
    (https://github.com/aws/aws-lambda-python-runtime-interface-client/blob/main/awslambdaric/lambda_runtime_marshaller.py)."""
    return json.dumps(value, ensure_ascii=False).encode()


def runtime_error(error: BaseException, request_id: str, code_dir: Path) -> dict[str, Any]:
    """The Python runtime's payload for an unhandled exception: ``make_error(str(value),
    etype.__name__, traceback.format_list(frames), invoke_id)``, the runtime's own leading frames
    left out (https://github.com/aws/aws-lambda-python-runtime-interface-client/blob/main/awslambdaric/bootstrap.py).
    The frames are (file, line, name, text) tuples there, so they carry no column markers; the
    code folder is shown as Lambda's ``/var/task``."""
    frames = traceback.extract_tb(error.__traceback__)
    for index, frame in enumerate(frames):
        if Path(frame.filename).is_relative_to(code_dir):
            frames = traceback.StackSummary.from_list(frames[index:])
            break
    tuples = [(f.filename.replace(str(code_dir), "/var/task"), f.lineno or 0, f.name, f.line) for f in frames]
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(tuples),
    }


# -- the Node.js process ------------------------------------------------------------------------


@dataclass
class FrameworkCall:
    """One call of a framework function in the driver."""

    handler: str
    event: Any
    ok: bool
    result: Any = None
    error: dict[str, Any] = field(default_factory=dict)
    """The Node.js runtime's error payload (``errorType``, ``errorMessage``, ``trace``)."""
    logs: list[str] = field(default_factory=list)
    connections: list[dict[str, Any]] = field(default_factory=list)
    """Where the function's HTTPS connections were headed (``host``, ``port``, ``servername``)."""


class NodeDriver:
    """``driver.cjs`` in its own Node.js process, one JSON line each way."""

    def __init__(self, node: str, response: ResponseEndpoint, aws: AwsEndpoint, home: Path) -> None:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            # Lambda's Node.js runtimes put the SDK on NODE_PATH; here it is the repository's
            # node_modules (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
            "NODE_PATH": str(REPO / "node_modules"),
            "AWS_ENDPOINT_URL": aws.url,
            "AWS_REGION": aws.region,
            "AWS_DEFAULT_REGION": aws.region,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        self._process = subprocess.Popen(
            [node, str(DRIVER), str(response.port), str(response.ca_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        assert self._process.stdout is not None and self._process.stderr is not None
        threading.Thread(target=self._pump, args=(self._process.stdout, self._lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self._process.stderr, self.stderr.append), daemon=True).start()
        self._next = 0
        ready = self._read()
        self.node_version = str(ready["node"])
        self.sdk_versions: dict[str, str | None] = dict(ready["sdk"])
        missing = [name for name, version in self.sdk_versions.items() if version is None]
        if missing:
            self.close()
            raise FrameworkUnavailable(
                f"Node.js cannot resolve {', '.join(missing)} on NODE_PATH {REPO / 'node_modules'}: "
                f"run `npm ci` in {REPO}"
            )

    @staticmethod
    def _pump(stream: Any, sink: Callable[[str], object]) -> None:
        for line in stream:
            sink(line.rstrip("\n"))

    def _read(self) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=CALL_TIMEOUT)
        except queue.Empty:
            raise RuntimeError(
                f"the framework driver did not answer within {CALL_TIMEOUT} s; stderr: {self.stderr[-20:]}"
            ) from None
        try:
            message: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            raise RuntimeError(f"the framework driver wrote {line!r}; stderr: {self.stderr[-20:]}") from None
        return message

    def call(self, code: Path, handler: str, environment: Mapping[str, str], event: Any) -> FrameworkCall:
        if self._process.poll() is not None:
            raise RuntimeError(f"the framework driver exited ({self._process.returncode}): {self.stderr[-20:]}")
        self._next += 1
        command = {"id": self._next, "code": str(code), "handler": handler, "env": dict(environment), "event": event}
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(command) + "\n")
        self._process.stdin.flush()
        answer = self._read()
        if answer.get("id") != self._next:
            raise RuntimeError(f"the framework driver answered {answer.get('id')}, not {self._next}")
        error = dict(answer.get("error") or {})
        if "Cannot find module '@aws-sdk/" in str(error.get("errorMessage")):
            raise FrameworkUnavailable(f"{error['errorMessage']}: run `npm ci` in {REPO}")
        return FrameworkCall(
            handler,
            event,
            bool(answer["ok"]),
            answer.get("result"),
            error,
            list(answer.get("logs", [])),
            list(answer.get("connections", [])),
        )

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)


class FrameworkSession:
    """What a test session shares: the endpoints and the one Node.js process."""

    def __init__(self, directory: Path, region: str = "us-east-1", account: str = "123456789012") -> None:
        node = check_installation()
        self.region = region
        self.account = account
        self.response = ResponseEndpoint(response_host(region), directory)
        self.aws = AwsEndpoint(region, account)
        try:
            self.driver = NodeDriver(node, self.response, self.aws, directory)
        except BaseException:
            self.response.close()
            self.aws.close()
            raise

    def close(self) -> None:
        self.driver.close()
        self.response.close()
        self.aws.close()


# -- one deployment of a stack ------------------------------------------------------------------


@dataclass
class Outcome:
    """One CloudFormation event of one resource, through the framework."""

    request: dict[str, Any]
    """The event CloudFormation sent the framework's onEvent function."""
    response: Received
    """What CloudFormation received at the ``ResponseURL``: the only request it got."""
    invocations: list[Invocation]
    """The user functions' invocations, in order."""
    calls: list[FrameworkCall]
    """The framework functions' calls (onEvent, each isComplete attempt, onTimeout), in order."""
    executions: list[Execution]
    started_at: float
    """The virtual time the event began."""
    seconds: float
    """The virtual time it took."""

    @property
    def body(self) -> dict[str, Any]:
        return self.response.json

    @property
    def status(self) -> str:
        return str(self.body["Status"])

    @property
    def reason(self) -> str:
        return str(self.body["Reason"])

    @property
    def physical_id(self) -> str:
        return str(self.body["PhysicalResourceId"])

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.body.get("Data") or {}
        return data

    @property
    def size(self) -> int:
        """The body's size in bytes."""
        return len(self.response.body)

    def invoked(self, function_arn: str) -> list[Invocation]:
        return [i for i in self.invocations if i.function_arn == function_arn]

    def __repr__(self) -> str:
        what = f"{self.request['RequestType']} of {self.request['LogicalResourceId']}"
        return f"<{what}: {self.status} {self.physical_id}, {self.size} bytes>"


def response_body(
    request: Mapping[str, Any], status: str, physical_id: str, *, reason: str | None = None, data: Any = None
) -> bytes:
    """The bytes cfn-response.js's submitResponse PUTs for CloudFormation's ``request``:
    ``JSON.stringify`` of Status, Reason (the status when none is given), StackId, RequestId,
    PhysicalResourceId, LogicalResourceId, NoEcho and Data in that order, the undefined ones
    (NoEcho, and Data when no function returned any) left out."""
    body = {
        "Status": status,
        "Reason": reason or status,
        "StackId": request["StackId"],
        "RequestId": request["RequestId"],
        "PhysicalResourceId": physical_id,
        "LogicalResourceId": request["LogicalResourceId"],
    }
    if data is not None:
        body["Data"] = data
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _matches(names: Sequence[str], error: str) -> bool:
    """A Retry or Catch rule's ErrorEquals against an error name
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""
    if error in names:
        return True
    if "States.ALL" in names:
        return error != "States.Runtime"
    return "States.TaskFailed" in names and error != "States.Timeout"


class Deployment:
    """One stack deployed in a simulated account: its resolved template, its Python user
    functions (fresh Lambda containers), the fake services of its jobs and the virtual clock.
    Use it as a context manager; on a clean exit it raises if any fake service or endpoint
    found a malformed request."""

    def __init__(
        self,
        session: FrameworkSession,
        stack: StackTemplate,
        *,
        scenario: Scenario | Mapping[str, Scenario] = Scenario.SUCCESS,
        clock: VirtualClock | None = None,
        stack_uuid: str | None = None,
        busy_seconds: float = 600.0,
    ) -> None:
        self.session = session
        self.stack = stack
        self.clock = clock or VirtualClock()
        region = session.region
        pseudo = Pseudo(
            stack_name=stack.name,
            account=session.account,
            region=region,
            partition=partition_of(region),
            url_suffix=dns_suffix_of(region),
        )
        if stack_uuid is not None:
            pseudo.stack_uuid = stack_uuid
        self.pseudo = pseudo
        self.resolver = Resolver(stack.template, pseudo)
        self.jobs = {job.service: job for job in stack.jobs(self.resolver)}
        self._scenario = scenario
        self._busy_seconds = busy_seconds
        self.fakes: dict[str, FakeService] = {}
        self._python: dict[str, PythonLambda] = {}
        self._arns = {
            self.resolver.get_att(logical_id, "Arn"): logical_id
            for logical_id, resource in stack.resources.items()
            if resource["Type"] == "AWS::Lambda::Function"
        }
        self._exit = contextlib.ExitStack()

    def __enter__(self) -> Deployment:
        for service in dict.fromkeys(self.stack.services()):
            scenario = self._scenario if isinstance(self._scenario, Scenario) else self._scenario.get(service)
            fake = fake_class(service)(
                scenario=scenario or Scenario.SUCCESS,
                clock=self.clock,
                region=self.session.region,
                account=self.session.account,
                busy_seconds=self._busy_seconds,
            )
            self.fakes[service] = self._exit.enter_context(fake)
        self._exit.enter_context(aws_environment(self.fakes, self.session.region))
        self.session.aws.target = self._invoke_python
        self._exit.callback(setattr, self.session.aws, "target", None)
        self._problems_before = (len(self.session.aws.problems), len(self.session.response.problems))
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self._exit.close()
        if kind is None and self.problems:
            raise AssertionError(f"malformed requests: {self.problems}")

    @property
    def problems(self) -> list[str]:
        """What the fakes and the endpoints found wrong with the requests of this deployment."""
        aws, response = self._problems_before
        return [
            *(p for fake in self.fakes.values() for p in fake.problems),
            *self.session.aws.problems[aws:],
            *self.session.response.problems[response:],
        ]

    # -- the template's functions ------------------------------------------------------------

    def function_arn(self, logical_id: str) -> str:
        return self.resolver.get_att(logical_id, "Arn")

    def function_name(self, logical_id: str) -> str:
        """The function's name, the last part of its ARN (as framework.js shows it in ``Logs:``)."""
        return self.function_arn(logical_id).rsplit(":", 1)[-1]

    def _environment(self, spec: UserFunction) -> dict[str, str]:
        environment = {k: str(v) for k, v in self.resolver.resolve(dict(spec.environment)).items()}
        environment["AWS_LAMBDA_FUNCTION_NAME"] = self.resolver.ref(spec.logical_id)
        return environment

    def _invoke_python(self, function_arn: str, payload: bytes) -> tuple[str | None, bytes] | None:
        logical_id = self._arns.get(function_arn)
        if logical_id is None:
            return None
        runtime = str(self.stack.resources[logical_id]["Properties"].get("Runtime", ""))
        if not runtime.startswith("python"):
            return None
        if logical_id not in self._python:
            spec = self.stack.function(logical_id)
            self._python[logical_id] = PythonLambda(spec, self._environment(spec), self.clock)
        return self._python[logical_id].invoke(payload)

    def _call_framework(self, function_arn: str, event: Any) -> FrameworkCall:
        logical_id = self._arns[function_arn]
        spec = self.stack.function(logical_id)
        return self.session.driver.call(spec.asset_dir, spec.handler, self._environment(spec), event)

    # -- CloudFormation's events -------------------------------------------------------------

    def properties(self, job: JobResource) -> dict[str, Any]:
        """The job's properties as CloudFormation sends them: resolved, scalars as strings."""
        resolved: dict[str, Any] = stringify(self.resolver.resolve(dict(job.properties)))
        return resolved

    def send(
        self,
        job: JobResource,
        request_type: str,
        *,
        properties: Mapping[str, Any],
        physical_id: str | None = None,
        old_properties: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """One event as CloudFormation sends it to the framework's onEvent function, then the
        waiter's execution, if onEvent started one; returns what CloudFormation received."""
        aws, response = self.session.aws, self.session.response
        marks = (len(aws.invocations), len(aws.executions), len(response.received))
        started = self.clock.elapsed
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": response_url(response.host, self.pseudo.stack_id, job.logical_id, request_id),
            "StackId": self.pseudo.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": job.logical_id,
            "ResourceType": job.resource_type,
            "ResourceProperties": json.loads(json.dumps(properties)),
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = json.loads(json.dumps(old_properties))
        calls = [self._call_framework(str(properties["ServiceToken"]), event)]
        for execution in list(aws.executions[marks[1] :]):
            calls += self._play(execution)
        received = response.received[marks[2] :]
        logs = [line for call in calls for line in call.logs]
        failed = [call.error for call in calls if not call.ok and call.handler != "framework.isComplete"]
        assert len(received) == 1, (
            f"CloudFormation received {len(received)} responses for one event; "
            f"unhandled: {failed}; framework logs: {logs[-30:]}"
        )
        (put,) = received
        expected_path = urllib.parse.urlsplit(event["ResponseURL"])
        checks = {
            "method": (put.method, "PUT"),
            "path": (put.path, f"{expected_path.path}?{expected_path.query}"),
            "host": (put.headers.get("host"), response.host),
            "TLS server name": (put.server_name, response.host),
            "content-length": (put.headers.get("content-length"), str(len(put.body))),
            "content-type": (put.headers.get("content-type"), ""),
        }
        self.session.response.problems += [
            f"the response's {what} is {got!r}, not {want!r}" for what, (got, want) in checks.items() if got != want
        ]
        for call in calls:
            self.session.response.problems += [
                f"{call.handler} connected to {c['host']}:{c['port']}, not {response.host}:443"
                for c in call.connections
                if (c["host"], c["port"]) != (response.host, 443)
            ]
        return Outcome(
            request=event,
            response=put,
            invocations=list(aws.invocations[marks[0] :]),
            calls=calls,
            executions=list(aws.executions[marks[1] :]),
            started_at=started,
            seconds=self.clock.elapsed - started,
        )

    def _state_machine(self, arn: str) -> Mapping[str, Any]:
        for logical_id, resource in self.stack.resources.items():
            if resource["Type"] == "AWS::StepFunctions::StateMachine" and self.resolver.ref(logical_id) == arn:
                return self.stack.definition(logical_id, self.resolver)
        raise AssertionError(f"StartExecution of {arn}, which is no state machine of the template")

    def _play(self, execution: Execution) -> list[FrameworkCall]:
        """The execution, from the template's definition: Task states invoking the framework's
        functions, with their Retry (IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds)
        on the virtual clock and their Catch. A function's error is named by its payload's
        ``errorType``, its cause that payload as JSON; a Catch without ResultPath passes
        ``{"Error", "Cause"}`` on (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html)."""
        definition = self._state_machine(execution.state_machine_arn)
        calls: list[FrameworkCall] = []
        data: Any = json.loads(execution.input)
        name: str | None = str(definition["StartAt"])
        while name is not None:
            state = definition["States"][name]
            unknown = set(state) - {"Type", "Resource", "Retry", "Catch", "End", "Next", "Comment"}
            if state["Type"] != "Task" or unknown:
                raise NotImplementedError(f"state {name}: type {state['Type']}, fields {sorted(unknown)}")
            retries = [0] * len(state.get("Retry", []))
            while True:
                call = self._call_framework(str(state["Resource"]), data)
                calls.append(call)
                if call.ok:
                    data, name = call.result, (None if state.get("End") else str(state["Next"]))
                    break
                error = str(call.error["errorType"])
                rules = state.get("Retry", [])
                index = next((i for i, rule in enumerate(rules) if _matches(rule["ErrorEquals"], error)), None)
                if index is not None:
                    rule = rules[index]
                    if rule.get("JitterStrategy", "NONE") != "NONE":
                        raise NotImplementedError("JitterStrategy")
                    if retries[index] < int(rule.get("MaxAttempts", 3)):
                        backoff = float(rule.get("BackoffRate", 2.0)) ** retries[index]
                        delay = float(rule.get("IntervalSeconds", 1)) * backoff
                        delay = min(delay, float(rule.get("MaxDelaySeconds", delay)))
                        retries[index] += 1
                        self.clock.advance(delay)
                        continue
                catcher = next((c for c in state.get("Catch", []) if _matches(c["ErrorEquals"], error)), None)
                if catcher is None:
                    return calls  # the execution fails; CloudFormation hears nothing
                if set(catcher) - {"ErrorEquals", "Next"}:
                    raise NotImplementedError(f"Catch fields {sorted(catcher)}")
                cause = json.dumps(call.error, ensure_ascii=False, separators=(",", ":"))
                data, name = {"Error": error, "Cause": cause}, str(catcher["Next"])
                break
        return calls

    # -- a resource's life -------------------------------------------------------------------

    def job(self, service: str) -> JobResource:
        return self.jobs[service]

    def framework_code(self) -> Path:
        """The framework asset folder (framework.js...) of the jobs' Provider."""
        return self.stack.function(next(iter(self.jobs.values())).provider.logical_id).asset_dir

    def on_event_function(self) -> str:
        """The logical id of the Python onEvent function behind the jobs' Provider."""
        return next(iter(self.jobs.values())).provider.on_event.logical_id

    def is_complete_function(self) -> str:
        checker = next(iter(self.jobs.values())).provider.is_complete
        assert checker is not None
        return checker.logical_id
