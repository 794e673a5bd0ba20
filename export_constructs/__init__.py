"""export_constructs: AWS export jobs that CloudFormation cannot express, as CDK constructs."""

from ._provider import ExportJobProvider
from ._validation import PropTypeError
from .cloudwatchlogs import CloudWatchLogsExportJob
from .destination import ExportDestination
from .forecast import ForecastExportJob
from .personalize import PersonalizeDatasetExportJob
from .pinpoint import PinpointExportJob
from .rds import RdsSnapshotExportJob
from .robomaker import RoboMakerWorldExportJob

__all__ = [
    "CloudWatchLogsExportJob",
    "ExportDestination",
    "ExportJobProvider",
    "ForecastExportJob",
    "PersonalizeDatasetExportJob",
    "PinpointExportJob",
    "PropTypeError",
    "RdsSnapshotExportJob",
    "RoboMakerWorldExportJob",
]
