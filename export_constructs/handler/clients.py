"""All outbound AWS clients are built here, so tests can hand in Stubber-wrapped ones."""

from __future__ import annotations

import functools
from typing import Any

#: Throttling and 5xx are retried by botocore (standard mode: exponential backoff with
#: jitter, throttling codes such as ThrottlingException and LimitExceededException, and
#: 500/502/503/504), never by hand.
RETRY_CONFIG: dict[str, Any] = {"mode": "standard", "total_max_attempts": 8}
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30


def botocore_config() -> Any:
    from botocore.config import Config

    return Config(
        retries=RETRY_CONFIG,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        user_agent_extra="export-constructs",
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
