"""All outbound AWS clients are built here, so tests can hand in Stubber-wrapped ones: boto3's,
and :class:`RestJsonClient` for a service botocore has no model of."""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError
from botocore.httpsession import URLLib3Session
from botocore.session import get_session

LOG = logging.getLogger("export_constructs")

#: Throttling and 5xx are retried by botocore (standard mode: exponential backoff with
#: jitter, throttling codes such as ThrottlingException and LimitExceededException, and
#: 500/502/503/504), never by hand.
RETRY_CONFIG: dict[str, Any] = {"mode": "standard", "total_max_attempts": 8}
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
USER_AGENT = "export-constructs"


def botocore_config() -> Any:
    from botocore.config import Config

    return Config(
        retries=RETRY_CONFIG,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        user_agent_extra=USER_AGENT,
    )


#: Refusals of a job's start that mean "the account's quota of concurrent jobs is full": botocore's
#: standard mode counts LimitExceededException as throttling and retries it for about a minute in
#: one invocation, far too short for a running export to free its slot. The engine queues the job
#: instead and tries again at its next poll, so botocore does not retry these on a start.
QUOTA_ERROR_CODES = frozenset({"LimitExceededException"})
START_OPERATION_PREFIXES = ("Create", "Start")


def queue_instead_of_retrying(client: Any) -> Any:
    """``client`` with its standard-mode retry handler wrapped so that a start operation's
    :data:`QUOTA_ERROR_CODES` are answered at once (throttling and 5xx are still retried)."""
    from botocore.retries import standard

    service = client.meta.service_model.service_id.hyphenize()
    event, unique_id = f"needs-retry.{service}", f"retry-config-{service}"
    client.meta.events.unregister(event, unique_id=unique_id)
    handler = standard.register_retry_handler(client, RETRY_CONFIG["total_max_attempts"])
    client.meta.events.unregister(event, unique_id=unique_id)

    def needs_retry(**kwargs: Any) -> Any:
        operation = kwargs.get("operation")
        response = kwargs.get("response")
        if (
            operation is not None
            and str(operation.name).startswith(START_OPERATION_PREFIXES)
            and response is not None
            and response[1].get("Error", {}).get("Code") in QUOTA_ERROR_CODES
        ):
            return None
        return handler.needs_retry(**kwargs)

    client.meta.events.register(event, needs_retry, unique_id=unique_id)
    return client


@functools.cache
def boto3_client(service_name: str) -> Any:
    """A cached boto3 client for ``service_name`` with the library's retry configuration."""
    import boto3

    return queue_instead_of_retrying(boto3.client(service_name, config=botocore_config()))


# -- a service without a botocore model ------------------------------------------------------------

THROTTLING = "ThrottlingException"
RETRYABLE_CODES = frozenset({THROTTLING, "InternalServerException", "ServiceUnavailableException"})
# botocore's standard retry mode: t = rand(0, 1) * min(scale * 2 ** i, 20 s), with a scale of
# 1 s after throttling and 50 ms after other transient errors.
MAX_BACKOFF_SECONDS = 20.0
THROTTLING_SCALE = 1.0
TRANSIENT_SCALE = 0.05


class RestJsonError(Exception):
    """An error answer from a :class:`RestJsonClient`'s service; the message carries the service's
    code and message. A subclass per service names it (:attr:`service`)."""

    service: ClassVar[str] = ""
    """The service's name in messages (``RoboMaker``)."""

    def __init__(self, operation: str, code: str, message: str, status: int) -> None:
        super().__init__(f"{self.service} {operation} failed with {code} (HTTP {status}): {message or 'no message'}")
        self.code = code
        self.message = message
        self.status = status


class RestJsonClient:
    """A REST-JSON API that botocore has no model of: ``POST /<operation>`` with a JSON body,
    signed with botocore's SigV4 signer and sent with botocore's HTTP session. A subclass names
    the service's :attr:`signing_name` and its :attr:`error`.

    Throttling, ``InternalServerException``, ``ServiceUnavailableException``, any other 5xx and
    connection errors are retried with exponential backoff and full jitter, within the attempt
    budget of :data:`RETRY_CONFIG`, the way botocore's standard mode does. Credentials come from
    botocore's default chain.

    Args:
        sleep: waits between attempts. Default: ``time.sleep``.
        jitter: returns a number in [0, 1) that scales each backoff. Default: ``random.random``.
    """

    signing_name: ClassVar[str]
    """The service's SigV4 signing name and endpoint prefix (``robomaker``)."""
    error: ClassVar[type[RestJsonError]]
    """What its error answers raise (its name in messages: ``error.service``)."""

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._sleep = sleep
        self._jitter = jitter
        self._max_attempts = int(RETRY_CONFIG["total_max_attempts"])

    @classmethod
    def endpoint_url(cls, region: str) -> str:
        """``AWS_ENDPOINT_URL_<SIGNING NAME>``, else ``AWS_ENDPOINT_URL``, else the Region's endpoint
        (service-specific first, as botocore looks them up); ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true``
        ignores both variables, as in botocore."""
        if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
            for name in (f"AWS_ENDPOINT_URL_{cls.signing_name.upper()}", "AWS_ENDPOINT_URL"):
                if url := os.environ.get(name):
                    return url.rstrip("/")
        return f"https://{cls.signing_name}.{region}.amazonaws.com"

    @functools.cached_property
    def _session(self) -> Any:
        return get_session()

    @functools.cached_property
    def _http(self) -> URLLib3Session:
        return URLLib3Session(timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))

    def call(self, operation: str, body: Mapping[str, Any], *, region: str) -> dict[str, Any]:
        """Call ``operation`` (e.g. ``"CreateWorldExportJob"``) and return the JSON answer.

        Raises:
            RestJsonError: the service refused the request, or kept failing (its :attr:`error`).
            botocore.exceptions.BotoCoreError: no credentials, or no connection after retries.
        """
        url = f"{self.endpoint_url(region)}/{operation[0].lower()}{operation[1:]}"
        payload = json.dumps(body, separators=(",", ":")).encode()
        attempt = 0
        while True:
            attempt += 1
            failure: Exception
            try:
                response = self._http.send(self._signed(url, payload, region).prepare())
            except (BotoConnectionError, HTTPClientError) as error:
                failure, scale = error, TRANSIENT_SCALE
            else:
                if response.status_code < 300:
                    answer: dict[str, Any] = json.loads(response.content or b"{}")
                    return answer
                refused = self._error(operation, response.status_code, response.headers, response.content)
                if refused.code not in RETRYABLE_CODES and refused.status < 500:
                    raise refused
                failure, scale = refused, THROTTLING_SCALE if refused.code == THROTTLING else TRANSIENT_SCALE
            if attempt >= self._max_attempts:
                raise failure
            delay = self._jitter() * min(scale * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
            LOG.warning(
                "%s %s attempt %d of %d failed (%s); retrying in %.2f s",
                self.error.service,
                operation,
                attempt,
                self._max_attempts,
                failure,
                delay,
            )
            self._sleep(delay)

    def _signed(self, url: str, payload: bytes, region: str) -> AWSRequest:
        request = AWSRequest(
            method="POST",
            url=url,
            data=payload,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        )
        credentials = self._session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
        SigV4Auth(frozen, self.signing_name, region).add_auth(request)  # NoCredentialsError without any
        return request

    def _error(self, operation: str, status: int, headers: Mapping[str, str], content: bytes) -> RestJsonError:
        """The error code from ``x-amzn-ErrorType`` (before any ``:``), else the body's ``__type``
        (after any ``#``) or ``code``; the message from the body."""
        try:
            body = json.loads(content or b"{}")
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = headers.get("x-amzn-ErrorType", "").split(":", 1)[0]
        if not code:
            code = str(body.get("__type") or body.get("code") or "").rsplit("#", 1)[-1]
        message = str(body.get("message") or body.get("Message") or "")
        return self.error(operation, code or f"HTTP{status}", message, status)
