"""A fake of Amazon DynamoDB (JSON 1.0, botocore's model) for the window ledger of recurring
exports. Like every fake it checks each request's signature, validates it against botocore's
model and has IAM authorize it; what the request then does is moto's: the fake forwards it to
moto's server (``moto[server]``, a test dependency imported only when the fake starts), on
loopback, so that condition and update expressions are evaluated by an implementation of
DynamoDB's rules rather than by this module.

Each fake keeps its tables apart from every other fake's in the process (moto keeps its state
per account, process-wide): moto sees the fake's requests under an account of its own, and the
ARNs it answers are given back with the fake's account.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
from collections.abc import Mapping
from typing import Any

from .base import IamRequest, ServiceError
from .protocol import BotocoreFake, Operation

#: Operations the fake serves (each forwarded to moto once authorized).
OPERATIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Scan", "Query", "DescribeTable", "BatchGetItem"}
)

#: moto's accounts for the fakes of this process: one each, so that no fake sees another's tables.
_MOTO_ACCOUNTS = itertools.count(900000000001)


class Fake(BotocoreFake):
    """DynamoDB on 127.0.0.1, its operations executed by moto.

    Create the tables a stack declares with :meth:`create_table` (or
    :meth:`create_table_from_template`) once the fake is started; read them back with
    :meth:`items`. Takes :class:`~.base.FakeService`'s arguments.
    """

    name = "DynamoDB"
    model_name = "dynamodb"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.moto_account = f"{next(_MOTO_ACCOUNTS):012d}"
        """The account moto keeps this fake's tables under (the fake's own :attr:`account` is
        the one its answers name)."""
        self._moto: Any = None
        self._moto_thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        # moto is a test dependency: only a started DynamoDB fake needs it.
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        class Quiet(MotoRequestHandler):
            # moto's handler logs every request to stderr.
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        # What moto.server.ThreadedMotoServer runs, on an ephemeral loopback port and silent.
        self._moto = make_server(
            "127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True, request_handler=Quiet
        )
        self._moto_thread = threading.Thread(target=self._moto.serve_forever, kwargs={"poll_interval": 0.05})
        self._moto_thread.daemon = True
        self._moto_thread.start()
        super().start()

    def close(self) -> None:
        super().close()
        if self._moto is not None:
            self._moto.shutdown()
            self._moto.server_close()
            if self._moto_thread is not None:
                self._moto_thread.join(timeout=5)
            from moto.dynamodb.models import dynamodb_backends

            dynamodb_backends.pop(self.moto_account, None)
        self._moto = None
        self._moto_thread = None

    # -- the simulation's side ---------------------------------------------------------------

    def create_table(
        self, table: str, key: str, key_type: str = "S", *, sort_key: tuple[str, str] | None = None
    ) -> str:
        """Create an on-demand table, as a stack's deployment would; its ARN.

        Args:
            table: the table's name.
            key: the partition key's attribute name.
            key_type: the partition key's type (``S``, ``N`` or ``B``). Default: ``S``.
            sort_key: the sort key's (name, type), if the table has one.
        """
        schema = [{"AttributeName": key, "KeyType": "HASH"}]
        attributes = [{"AttributeName": key, "AttributeType": key_type}]
        if sort_key is not None:
            schema.append({"AttributeName": sort_key[0], "KeyType": "RANGE"})
            attributes.append({"AttributeName": sort_key[0], "AttributeType": sort_key[1]})
        return self._create(
            {
                "TableName": table,
                "KeySchema": schema,
                "AttributeDefinitions": attributes,
                "BillingMode": "PAY_PER_REQUEST",
            }
        )

    def create_table_from_template(self, properties: Mapping[str, Any]) -> str:
        """Create the table of an ``AWS::DynamoDB::Table``'s (resolved) properties: its name, keys
        and global secondary indexes (capacity and encryption change nothing the fake answers);
        its ARN.

        Args:
            properties: the resource's ``Properties``, intrinsic functions resolved; ``TableName``
                is required (the simulation names the tables CloudFormation would).
        """
        indexes = [
            {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i.get("Projection", {})}
            for i in properties.get("GlobalSecondaryIndexes", [])
        ]
        request: dict[str, Any] = {
            "TableName": str(properties["TableName"]),
            "KeySchema": list(properties["KeySchema"]),
            "AttributeDefinitions": list(properties["AttributeDefinitions"]),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        return self._create(request)

    def items(self, table: str) -> list[dict[str, Any]]:
        """Every item of ``table``, in DynamoDB's JSON (``{"Source": {"S": "..."}, ...}``), read
        from moto directly (not recorded in :attr:`calls`).

        Raises:
            ServiceError: moto's answer when there is no such table.
        """
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        while True:
            page = self._moto_call("Scan", request)
            found += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _create(self, request: dict[str, Any]) -> str:
        with self._lock:
            description = self._moto_call("CreateTable", request)["TableDescription"]
        return str(description["TableArn"])

    # -- the service's side ------------------------------------------------------------------

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        # Every operation served acts on tables: the Service Authorization Reference's "table"
        # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html).
        if operation == "BatchGetItem":
            return IamRequest({"table": [self._table_arn(name) for name in params["RequestItems"]]})
        return IamRequest({"table": self._table_arn(params["TableName"])})

    def _table_arn(self, table: str) -> str:
        # TableName also takes the table's ARN.
        # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html#DDB-GetItem-request-TableName
        if table.startswith("arn:"):
            return table
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{table}"

    def operation(self, name: str) -> Operation:
        if name not in OPERATIONS:
            raise ServiceError("UnknownOperationException", f"{name} is not simulated", 400)

        def forward(params: dict[str, Any]) -> dict[str, Any]:
            answer = self._moto_call(name, params)
            if name == "DescribeTable":
                _drop_zero_decreases(answer.get("Table", {}))
            return answer

        return forward

    def _moto_call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """moto's answer to one (already checked) request, with this fake's account in its ARNs.

        Raises:
            ServiceError: moto's error answer (``ConditionalCheckFailedException``...).
        """
        assert self._moto is not None, "the fake service is not started"
        host, port = self._moto.server_address[:2]
        # moto reads the Region from the credential scope and keeps state per account; it
        # checks no signature (this fake did).
        headers = {
            "X-Amz-Target": f"{self.model.metadata['targetPrefix']}.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": f"AWS4-HMAC-SHA256 Credential=fake/20260101/{self.region}/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=0",
            "x-moto-account-id": self.moto_account,
        }
        connection = http.client.HTTPConnection(str(host), int(port), timeout=30)
        try:
            connection.request("POST", "/", body=json.dumps(self._to_moto(params)).encode(), headers=headers)
            response = connection.getresponse()
            status, body = response.status, response.read()
        finally:
            connection.close()
        answer = json.loads(body or b"{}")
        if status != 200:
            code = str(answer.get("__type", "InternalServerError")).rpartition("#")[2]
            raise ServiceError(code, str(answer.get("message", answer.get("Message", ""))), status)
        result: dict[str, Any] = self._from_moto(answer)
        return result

    def _to_moto(self, value: Any) -> Any:
        """ARNs the caller named with the fake's account, in moto's."""
        return _swap_accounts(value, f":{self.account}:", f":{self.moto_account}:")

    def _from_moto(self, value: Any) -> Any:
        return _swap_accounts(value, f":{self.moto_account}:", f":{self.account}:")


def _drop_zero_decreases(table: dict[str, Any]) -> None:
    """DynamoDB (and moto) answer ``NumberOfDecreasesToday: 0`` for an on-demand table, below
    the minimum of 1 botocore's model gives that member (which the fake checks answers against):
    leave it out, as an answer may."""
    throughputs = [table.get("ProvisionedThroughput", {})]
    throughputs += [index.get("ProvisionedThroughput", {}) for index in table.get("GlobalSecondaryIndexes", [])]
    for throughput in throughputs:
        if throughput.get("NumberOfDecreasesToday") == 0:
            del throughput["NumberOfDecreasesToday"]


def _swap_accounts(value: Any, old: str, new: str) -> Any:
    """``value`` with ``old`` replaced in the table ARNs it holds: ``*Arn`` members, and table
    names given as ARNs (never in items' attribute values, which are ``{"S": ...}`` maps)."""
    if isinstance(value, Mapping):
        swapped: dict[str, Any] = {}
        for key, item in value.items():
            arn_member = key.endswith("Arn") or key == "TableName"
            if arn_member and isinstance(item, str) and item.startswith("arn:"):
                swapped[key] = item.replace(old, new, 1)
            elif key == "RequestItems" and isinstance(item, Mapping):
                swapped[key] = {
                    (k.replace(old, new, 1) if k.startswith("arn:") else k): _swap_accounts(v, old, new)
                    for k, v in item.items()
                }
            elif key in ("Item", "Items", "Key", "Attributes", "ExpressionAttributeValues", "LastEvaluatedKey"):
                swapped[key] = item
            else:
                swapped[key] = _swap_accounts(item, old, new)
        return swapped
    if isinstance(value, list):
        return [_swap_accounts(v, old, new) for v in value]
    return value
