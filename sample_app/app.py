"""The sample app: one stack with an export job of each of the six services, sharing one
ExportDestination under different prefixes.

``make synth`` runs this with all five cdk-nag packs registered as validation plugins.
"""

from __future__ import annotations

import aws_cdk as cdk
import cdk_nag
from constructs import Construct

from export_constructs import (
    CloudWatchLogsExport,
    CloudWatchLogsExportJob,
    ExportDestination,
    ExportJobProvider,
    ExportSchedule,
    ForecastExportJob,
    PersonalizeDatasetExportJob,
    PinpointExportJob,
    RdsSnapshotExport,
    RdsSnapshotExportJob,
    RoboMakerWorldExportJob,
)


class SampleExportStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        exports = ExportDestination(self, "Exports")
        users = PersonalizeDatasetExportJob(
            self,
            "UsersExport",
            dataset_arn=f"arn:{cdk.Aws.PARTITION}:personalize:{self.region}:{self.account}:dataset/shop/USERS",
            destination=exports,
            prefix="personalize/users/",
            ingestion_mode="ALL",
            tags={"team": "ml"},
        )
        cdk.CfnOutput(self, "UsersExportJobArn", value=users.job_arn)
        cdk.CfnOutput(self, "UsersExportOutputUri", value=users.output_uri)
        worlds = RoboMakerWorldExportJob(
            self,
            "WorldsExport",
            worlds=[
                f"arn:{cdk.Aws.PARTITION}:robomaker:{self.region}:{self.account}:world/sim-0f1e2d3c4b5a/world-0a1b2c3d"
            ],
            destination=exports,
            prefix="robomaker/worlds/",
            tags={"team": "sim"},
        )
        cdk.CfnOutput(self, "WorldsExportJobArn", value=worlds.job_arn)
        demand = ForecastExportJob(
            self,
            "DemandExport",
            forecast_arn=f"arn:{cdk.Aws.PARTITION}:forecast:{self.region}:{self.account}:forecast/shop_demand",
            destination=exports,
            prefix="forecast/demand/",
            format="PARQUET",
            tags={"team": "planning"},
        )
        cdk.CfnOutput(self, "DemandExportOutputUri", value=demand.output_uri)
        endpoints = PinpointExportJob(
            self,
            "EndpointsExport",
            application_id="0123456789abcdef0123456789abcdef",
            destination=exports,
            prefix="pinpoint/endpoints/",
        )
        cdk.CfnOutput(self, "EndpointsExportJobArn", value=endpoints.job_arn)
        # A small snapshot: 50 minutes, so the custom resource itself waits. The default (6 hours,
        # for big databases) waits on a wait condition and the tracker state machine instead.
        orders = RdsSnapshotExportJob(
            self,
            "OrdersExport",
            source_arn=f"arn:{cdk.Aws.PARTITION}:rds:{self.region}:{self.account}:snapshot:shop-db-2026-12-01",
            destination=exports,
            prefix="rds/orders/",
            export_only=["shop.orders"],
            timeout=cdk.Duration.minutes(50),
        )
        cdk.CfnOutput(self, "OrdersExportProgress", value=orders.percent_progress)
        # The last day of the export handler's own log group (a window the handler computes).
        handler_logs = CloudWatchLogsExportJob(
            self,
            "HandlerLogsExport",
            log_group=ExportJobProvider.of(self).log_group,
            destination=exports,
            prefix="cloudwatchlogs/handler/",
            window=cdk.Duration.days(1),
        )
        cdk.CfnOutput(self, "HandlerLogsExportOutputUri", value=handler_logs.output_uri)
        # Every night, yesterday (UTC) of the same log group, into date folders: each day once,
        # a failed night exported again by the next run.
        nightly = CloudWatchLogsExport(
            self,
            "HandlerLogsArchive",
            log_groups=[ExportJobProvider.of(self).log_group],
            destination=exports,
            schedule=ExportSchedule.daily(hour=1),
            prefix="archive/handler-logs/{yyyy}/{MM}/{dd}/",
        )
        cdk.CfnOutput(self, "HandlerLogsArchiveLedger", value=nightly.ledger.table_name)
        # Each new snapshot (automated or manual) of the shop's database, once, into date folders.
        RdsSnapshotExport(
            self,
            "ShopDbSnapshots",
            sources=[f"arn:{cdk.Aws.PARTITION}:rds:{self.region}:{self.account}:db:shop-db"],
            destination=exports,
            prefix="archive/rds/{source}/{yyyy}/{MM}/{dd}/{snapshot}/",
            export_only=["shop"],
        )


NAG_PACKS = (
    cdk_nag.AwsSolutionsChecks,
    cdk_nag.HIPAASecurityChecks,
    cdk_nag.NIST80053R5Checks,
    cdk_nag.PCIDSS321Checks,
    cdk_nag.ServerlessChecks,
)


def build_app(app: cdk.App | None = None, *, nag: bool = True) -> tuple[cdk.App, SampleExportStack]:
    app = app or cdk.App()
    stack = SampleExportStack(app, "ExportConstructsSample")
    if nag:
        cdk.Validations.of(app).add_plugins(*(pack(app, verbose=True) for pack in NAG_PACKS))
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
