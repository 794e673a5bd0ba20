"""Offline deploy simulation: run a stack's export jobs through the real handler code against
fake AWS services on loopback, with the events CloudFormation and the CDK Provider framework
send. For your own pytest suites::

    from export_constructs.testing import Scenario, simulate

    result = simulate(stack, scenario={"Personalize": Scenario.FAILURE})
    assert result.step("UsersExportB5678792").status == "FAILED"
"""

try:  # the simulation runs the handler, which needs boto3 (not a dependency of the constructs)
    import boto3  # noqa: F401
except ImportError as missing:
    raise ImportError(
        "export_constructs.testing runs the export-job handler offline and needs boto3, which the "
        "constructs do not: install the [testing] extra, e.g. pip install 'export_constructs[testing]'"
    ) from missing

from .fakes.base import Call, FakeService
from .fakes.jobs import FAILURE_REASON, Scenario, VirtualClock
from .results import SimulationResult, Step
from .simulate import fake_class, simulate

__all__ = [
    "FAILURE_REASON",
    "Call",
    "FakeService",
    "Scenario",
    "SimulationResult",
    "Step",
    "VirtualClock",
    "fake_class",
    "simulate",
]
