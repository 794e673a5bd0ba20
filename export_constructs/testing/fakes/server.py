"""The wire side of every fake service: the credentials the simulation hands the handler, the
SigV4 check that recomputes each request's signature with them, and a loopback HTTP server that
passes every request it receives to one endpoint (a fake service) and writes back its answer.
What the requests mean is the fakes' business (:mod:`.base` and the protocols)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

#: The credentials the simulation hands the handler; the fakes recompute signatures with them.
ACCESS_KEY = "AKIDSIMULATEDEXPORT"
SECRET_KEY = "simulated/export/constructs/secret/key/0000"

Answer = tuple[int, dict[str, str], bytes]
"""An HTTP answer: (status, headers, body)."""

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
    if signing_name == "s3":
        problems += _s3_payload_problems(headers, raw, signed)
    request = AWSRequest(
        method=method, url=f"http://{headers['Host']}{path}", data=raw, headers={h: headers[h] for h in signed}
    )
    request.context["timestamp"] = amz_date
    # S3 signs the path as sent, without SigV4's normalization, and the payload's hash from its header.
    auth_class = S3SigV4Auth if signing_name == "s3" else SigV4Auth
    signer = auth_class(Credentials(access_key, secret_key, headers.get("X-Amz-Security-Token")), signing_name, region)
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if signature != auth["signature"]:
        problems.append("the signature does not match the request")
    return problems


def _s3_payload_problems(headers: Any, raw: bytes, signed: list[str]) -> list[str]:
    """S3 requires every SigV4 request to carry ``x-amz-content-sha256``, signed: the payload's
    SHA-256 (hex) or ``UNSIGNED-PAYLOAD``
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html)."""
    declared = headers.get("X-Amz-Content-SHA256")
    if declared is None or "x-amz-content-sha256" not in signed:
        return ["x-amz-content-sha256 is not a signed header of the request, as S3 requires"]
    if declared not in ("UNSIGNED-PAYLOAD", hashlib.sha256(raw).hexdigest()):
        return [f"x-amz-content-sha256 {declared!r} is not the payload's SHA-256"]
    return []


class Endpoint(Protocol):
    """What a :class:`LoopbackServer` serves: a fake service."""

    problems: list[str]
    """Where a failure of :meth:`handle` itself is recorded."""

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        """Answer one HTTP request."""
        ...


class LoopbackServer:
    """An HTTP/1.1 server on 127.0.0.1 (an ephemeral port), serving ``endpoint`` from a thread
    of its own until :meth:`close`, which waits for the thread to see the request to stop: up to
    ``poll_interval`` seconds."""

    def __init__(self, endpoint: Endpoint, poll_interval: float = 0.05) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(endpoint))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The handler's clients keep connections alive and send headers and body apart: without
        # this, Nagle's algorithm and delayed ACKs add ~40 ms to every request.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                status, headers, body = endpoint.handle(self.command, self.path, self.headers, raw)
            except Exception as error:  # a bug in a fake must not look like a service answer
                endpoint.problems.append(f"the fake failed on {self.command} {self.path}: {error!r}")
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
