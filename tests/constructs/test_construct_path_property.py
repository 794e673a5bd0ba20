"""The ``ConstructPath`` resource property: a named job sends its construct path,
for the handler's message when an Update changes its request; unnamed jobs' templates do not
grow."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Template
from constructs import Construct

from export_constructs import ExportDestination, ForecastExportJob, PersonalizeDatasetExportJob
from export_constructs.handler import consts

from .conftest import resources_of

ENV = cdk.Environment(account="123456789012", region="us-east-1")
DATASET = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/USERS"
FORECAST = "arn:aws:forecast:us-east-1:123456789012:forecast/shop_demand"


def test_only_named_jobs_send_their_construct_path() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Paths", env=ENV)
    dest = ExportDestination(stack, "Exports")
    group = Construct(stack, "Team")  # a job deeper in the tree
    PersonalizeDatasetExportJob(group, "Named", dataset_arn=DATASET, destination=dest, job_name="users-export")
    PersonalizeDatasetExportJob(stack, "Derived", dataset_arn=DATASET, destination=dest)
    ForecastExportJob(stack, "Weekly", forecast_arn=FORECAST, destination=dest, job_name="weekly_export")
    ForecastExportJob(stack, "Demand", forecast_arn=FORECAST, destination=dest)
    template = Template.from_stack(stack).to_json()
    found = {
        logical_id[:-8]: resource["Properties"].get(consts.PROP_CONSTRUCT_PATH)
        for kind in ("Custom::ExportJob-Personalize", "Custom::ExportJob-Forecast")
        for logical_id, resource in resources_of(template, kind).items()
    }
    assert found == {
        "TeamNamed": "Paths/Team/Named",
        "Derived": None,
        "Weekly": "Paths/Weekly",
        "Demand": None,
    }
