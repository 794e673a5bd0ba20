"""What CloudFormation receives in the simulation: a failure's Reason as the Provider framework
sends it (the Node Error's stack around the handler's message), and each response's size, with a
response over the 4,096 bytes CloudFormation accepts reported as a problem."""

from __future__ import annotations

import importlib

import aws_cdk as cdk
import pytest

from export_constructs import ExportDestination, PersonalizeDatasetExportJob
from export_constructs.testing import FAILURE_REASON, Scenario, responses, simulate


@pytest.fixture(scope="module")
def stack() -> cdk.Stack:
    stack = cdk.Stack(cdk.App(), "Responses")
    PersonalizeDatasetExportJob(
        stack,
        "Users",
        dataset_arn=f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:dataset/shop/USERS",
        destination=ExportDestination(stack, "Exports"),
    )
    return stack


def test_a_failures_reason_is_the_frameworks_error_with_the_logs_line_and_frames(stack: cdk.Stack) -> None:
    result = simulate(stack, scenario=Scenario.FAILURE, authorize=False)
    created = result.step("Users0A0EEA89")
    message, _, rest = created.reason.partition("\n\nLogs: /aws/lambda/")
    assert message.startswith("Error: Personalize dataset export job arn:") and message.endswith(FAILURE_REASON)
    function, _, frames = rest.partition("\n\n")
    assert function.startswith("Responses-ExportJobProviderIsComplete")
    assert frames == responses.frames("isComplete")
    assert 0 < created.response_bytes < responses.MAX_RESPONSE_BYTES
    deleted = result.step("Users0A0EEA89", "Delete")
    assert deleted.status == "SUCCESS" and deleted.reason == "" and deleted.response_bytes > 0


def test_a_response_over_what_cloudformation_accepts_is_a_problem(
    stack: cdk.Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the framework to add 4 KB of frames to a failure, its response would be refused: the
    simulation says so, though the event itself failed as it should."""
    player = importlib.import_module("export_constructs.testing.player")
    assert player.user_function_failure is responses.user_function_failure
    monkeypatch.setattr(responses, "frames", lambda handler: "    at deep (/var/task/x.js:1:1)\n" * 130)
    result = simulate(stack, scenario=Scenario.FAILURE, authorize=False)
    created = result.step("Users0A0EEA89")
    assert created.status == "FAILED" and created.response_bytes > responses.MAX_RESPONSE_BYTES
    (problem,) = result.problems
    assert problem.startswith("Users0A0EEA89 Create: the response to CloudFormation is ")
    assert "over the 4096 it accepts" in problem and not result.ok
