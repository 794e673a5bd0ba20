"""export_constructs: AWS export jobs that CloudFormation cannot express, as CDK constructs."""

from ._provider import ExportJobProvider
from .destination import ExportDestination
from .personalize import PersonalizeDatasetExportJob
from .robomaker import RoboMakerWorldExportJob

__all__ = ["ExportDestination", "ExportJobProvider", "PersonalizeDatasetExportJob", "RoboMakerWorldExportJob"]
