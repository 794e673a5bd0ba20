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


@functools.cache
def boto3_client(service_name: str) -> Any:
    """A cached boto3 client for ``service_name`` with the library's retry configuration."""
    import boto3

    return boto3.client(service_name, config=botocore_config())
