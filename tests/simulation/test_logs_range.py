"""A CloudWatch Logs export of a fixed range (``start``/``end``) deploys: CloudFormation hands the
range's epoch milliseconds to the handler as strings, which the API takes as numbers (the
handler sent them on as strings, and botocore refused every such job before it left)."""

from __future__ import annotations

from datetime import UTC, datetime

import aws_cdk as cdk

from export_constructs import CloudWatchLogsExportJob, ExportDestination
from export_constructs.handler import consts
from export_constructs.testing import simulate


def test_a_fixed_range_is_exported_as_numbers() -> None:
    stack = cdk.Stack(cdk.App(), "Range")
    start, end = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    job = CloudWatchLogsExportJob(
        stack,
        "Day",
        log_group="/aws/lambda/orders",
        destination=ExportDestination(stack, "Exports"),
        start=start,
        end=end,
    )
    result = simulate(stack, authorize=True)
    assert result.ok, (result.failures, result.problems)
    (create,) = [c for c in result.calls if c.operation == "CreateExportTask" and c.status == 200]
    assert (create.params["from"], create.params["to"]) == (int(start.timestamp() * 1000), int(end.timestamp() * 1000))
    data = result.step(job).data
    assert (data[consts.ATTR_FROM], data[consts.ATTR_TO]) == (str(create.params["from"]), str(create.params["to"]))
