"""``queued_seconds``: how long a job waited for a slot of its service's quota (issue 15)."""

from __future__ import annotations

import aws_cdk as cdk

from export_constructs import ExportDestination, ForecastExportJob


def test_queued_seconds_is_the_resources_queued_seconds_attribute() -> None:
    stack = cdk.Stack(cdk.App(), "Queued")
    forecast = f"arn:{stack.partition}:forecast:{stack.region}:{stack.account}:forecast/demand"
    job = ForecastExportJob(stack, "Demand", destination=ExportDestination(stack, "Exports"), forecast_arn=forecast)
    resource = job.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    assert stack.resolve(job.queued_seconds) == {"Fn::GetAtt": [stack.resolve(resource.logical_id), "QueuedSeconds"]}
