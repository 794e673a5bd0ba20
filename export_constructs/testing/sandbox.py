"""Where the simulation runs the handler: each Lambda function's code imported from its asset
folder into a namespace of its own (:class:`Function`, one Lambda container: its own modules,
boto3 session and environment variables, installed only while it runs), inside an AWS
environment of fake credentials and loopback endpoints that keeps the user's configuration out
(:func:`aws_environment`). Both set and restore variables through :func:`set_environment`."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any

from .assembly import UserFunction
from .fakes.base import FakeService
from .fakes.server import ACCESS_KEY, SECRET_KEY


@contextlib.contextmanager
def set_environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """``os.environ`` with ``values`` set (a None value: the variable unset) for the block; each
    of these variables is as it was before once the block ends."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        _apply(values)
        yield
    finally:
        _apply(saved)


def _apply(values: Mapping[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class Function:
    """One Lambda function's code, imported from its asset folder in a namespace of its own
    (separate functions are separate Lambda containers: they share no module state, nor boto3's
    default session, which holds the credentials - the role's session - of the first call)."""

    def __init__(self, spec: UserFunction, environment: Mapping[str, str]) -> None:
        self.spec = spec
        self.environment = dict(environment)
        module_name, _, self.attribute = spec.handler.rpartition(".")
        self.top = module_name.split(".", 1)[0]
        self._modules: dict[str, ModuleType] = {}
        self._boto3_session: Any = None
        with self._installed():
            self._module_name = module_name
            importlib.import_module(module_name)

    @contextlib.contextmanager
    def _installed(self) -> Iterator[None]:
        def ours(name: str) -> bool:
            return name == self.top or name.startswith(f"{self.top}.")

        import boto3

        saved = {k: sys.modules.pop(k) for k in [k for k in sys.modules if ours(k)]}
        sys.modules.update(self._modules)
        saved_session, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, self._boto3_session
        sys.path.insert(0, str(self.spec.asset_dir))
        try:
            with set_environment(self.environment):
                yield
        finally:
            sys.path.remove(str(self.spec.asset_dir))
            self._modules = {k: sys.modules.pop(k) for k in [k for k in sys.modules if ours(k)]}
            sys.modules.update(saved)
            self._boto3_session, boto3.DEFAULT_SESSION = boto3.DEFAULT_SESSION, saved_session

    def use_clock(self, now: Callable[[], Any]) -> None:
        """Hand the function the virtual clock (the handler's ``entry.use_clock``), and a sleep
        that does not wait, where it takes one."""
        with self._installed():
            hook = getattr(sys.modules[self._module_name], "use_clock", None)
            if callable(hook):
                hook(now, lambda _seconds: None)

    def __call__(self, event: Mapping[str, Any]) -> Any:
        payload = json.loads(json.dumps(event))  # Lambda's JSON round trip, both ways
        with self._installed():
            handler: Callable[[Any, Any], Any] = getattr(sys.modules[self._module_name], self.attribute)
            result = handler(payload, None)
        return json.loads(json.dumps(result))


@contextlib.contextmanager
def aws_environment(fakes: Mapping[str, FakeService], region: str) -> Iterator[None]:
    """Fake credentials, the Region and each fake's endpoint; nothing of the user's AWS
    configuration leaks in, and everything is restored afterwards."""
    values: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": None,
        "AWS_SECURITY_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        # Any service without a fake fails on loopback instead of reaching AWS.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": None,
        "AWS_RETRY_MODE": None,
        "AWS_MAX_ATTEMPTS": None,
        **{fake.endpoint_env: fake.url for fake in fakes.values()},
    }
    import boto3

    session = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = None  # a fresh Lambda container: no credentials cached from before
    try:
        with set_environment(values):
            yield
    finally:
        boto3.DEFAULT_SESSION = session
