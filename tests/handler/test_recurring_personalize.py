"""The run's Personalize parts without a service: window names that fit Personalize's job names,
the dataset's name in the prefix, a window's request, and the latest-only catch-up's plan."""

from __future__ import annotations

import re
from typing import Any

from export_constructs.handler.adapters.personalize import Adapter
from export_constructs.handler.runs import window_name

USERS = "arn:aws:personalize:eu-west-1:111122223333:dataset/shop/USERS"
JOB_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-_]*")
DAY = 86_400_000


def adapter() -> Adapter:
    def no_client(name: str) -> Any:
        raise AssertionError(f"no {name} client wanted")

    return Adapter(no_client)


def test_a_window_name_with_the_exports_prefix_fits_personalizes_job_name() -> None:
    head = "ex1a2b3c4d-0800662a-"
    long_source = USERS.replace("shop/USERS", "a-very-long-dataset-group-name-of-the-shop/INTERACTIONS")
    for source in (USERS, long_source):
        name = head + window_name("App/Nightly", source, 1_793_491_200_000, 1_793_491_200_000 + DAY, 63 - len(head))
        assert len(name) <= 63 and JOB_NAME.fullmatch(name), name
        assert "20261101T0000" in name
    # The readable part is the dataset's name (the adapter's source label), not its ARN's tail.
    assert window_name("App/Nightly", USERS, 0, DAY, 43, "shop/USERS").startswith("shop-USERS-19700101T0000-")


def test_a_log_groups_window_name_is_as_before() -> None:
    # CloudWatch Logs' names (512 characters) keep their 40 readable characters.
    name = window_name("App/Nightly", "/aws/lambda/" + "x" * 60, 0, DAY, 512)
    assert name.startswith("x" * 40 + "-19700101T0000-")


def test_the_prefix_shows_the_datasets_name_and_the_request_exports_it_there() -> None:
    personalize = adapter()
    assert personalize.source_label(USERS) == "shop/USERS"
    request: dict[str, Any] = {
        "ingestionMode": "ALL",
        "roleArn": "arn:aws:iam::111122223333:role/r",
        "jobOutput": {"s3DataDestination": {"path": "s3://bucket/", "kmsKeyArn": "k"}},
    }
    window = personalize.for_window(request, USERS, 0, DAY, "personalize/shop/USERS/1970/01/01/")
    assert window == {
        "ingestionMode": "ALL",
        "roleArn": "arn:aws:iam::111122223333:role/r",
        "datasetArn": USERS,
        "jobOutput": {
            "s3DataDestination": {"path": "s3://bucket/personalize/shop/USERS/1970/01/01/", "kmsKeyArn": "k"}
        },
    }
    assert request["jobOutput"]["s3DataDestination"]["path"] == "s3://bucket/"  # the export's own is unchanged
    assert personalize.output_uri(window) == "s3://bucket/personalize/shop/USERS/1970/01/01/"
