"""Offline deploy simulation: run a stack's export jobs through the real handler code against
fake AWS services on loopback, with the events CloudFormation and the CDK Provider framework
send. For your own pytest suites::

    from export_constructs.testing import Scenario, simulate

    result = simulate(stack, scenario={"Personalize": Scenario.FAILURE})
    assert result.step("UsersExportB5678792").status == "FAILED"
"""

from .fakes.base import FAILURE_REASON, Call, FakeService, Scenario, VirtualClock
from .simulate import SimulationResult, Step, fake_class, simulate

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
