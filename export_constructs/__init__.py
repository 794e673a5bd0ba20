"""export_constructs: AWS export jobs that CloudFormation cannot express, as CDK constructs."""

from ._provider import ExportJobProvider
from ._validation import PropTypeError
from .archive import ArchiveSource, ExportArchive
from .cloudwatchlogs import CloudWatchLogsExport, CloudWatchLogsExportJob
from .destination import ExportDestination
from .forecast import ForecastExportJob
from .personalize import PersonalizeDatasetExport, PersonalizeDatasetExportJob
from .pinpoint import PinpointExportJob
from .rds import RdsSnapshotExport, RdsSnapshotExportJob
from .robomaker import RoboMakerWorldExportJob
from .schedule import ExportSchedule

__all__ = [
    "ArchiveSource",
    "CloudWatchLogsExport",
    "CloudWatchLogsExportJob",
    "ExportArchive",
    "ExportDestination",
    "ExportJobProvider",
    "ExportSchedule",
    "ForecastExportJob",
    "PersonalizeDatasetExport",
    "PersonalizeDatasetExportJob",
    "PinpointExportJob",
    "PropTypeError",
    "RdsSnapshotExport",
    "RdsSnapshotExportJob",
    "RoboMakerWorldExportJob",
]
