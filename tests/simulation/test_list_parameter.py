"""A template parameter of a list type deploys as CloudFormation resolves it: its ``Ref`` is the
list of its comma-separated values, so an RDS export's ``export_only`` given as a
CommaDelimitedList parameter reaches StartExportTask as a list of tables."""

from __future__ import annotations

import aws_cdk as cdk

from export_constructs import ExportDestination, RdsSnapshotExportJob
from export_constructs.testing import simulate

SNAPSHOT = "arn:aws:rds:us-east-1:123456789012:snapshot:shop-2026-12-01"


def test_a_comma_delimited_list_parameter_is_a_list() -> None:
    stack = cdk.Stack(cdk.App(), "Params", env=cdk.Environment(account="123456789012", region="us-east-1"))
    tables = cdk.CfnParameter(stack, "Tables", type="CommaDelimitedList", default="shop.orders,shop.customers")
    RdsSnapshotExportJob(
        stack,
        "Snapshot",
        source_arn=SNAPSHOT,
        destination=ExportDestination(stack, "Exports"),
        export_only=tables.value_as_list,
    )
    result = simulate(stack, authorize=True)
    assert result.ok, (result.failures, result.problems)
    (start,) = [c for c in result.calls if c.operation == "StartExportTask" and c.status == 200]
    assert start.params["ExportOnly"] == ["shop.orders", "shop.customers"]
