from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber


class Clock:
    """A settable clock for the engine's deadline."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 22, 11, 5, tzinfo=UTC))  # 5 minutes into the jobs below


def stubbed_client(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


@pytest.fixture
def personalize() -> Iterator[tuple[Any, Stubber]]:
    client, stubber = stubbed_client("personalize")
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
