"""template.yaml is the single source of wiring: check what it promises."""

from __future__ import annotations

from typing import Any

import pytest

from local.testing import Template, kits

# What each function does to the table, read from its code paths (see payments/store/).
TABLE_ACTIONS = {
    "CreateOrderFunction": {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"},
    "NotifyFunction": {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"},
    "DoctorFunction": {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"},  # a replay is a delivery
    "GetOrderFunction": {"dynamodb:Query"},
    "OrderActionsFunction": {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"},
    "ReconcileFunction": {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"},
    "PublishEventsFunction": {"dynamodb:PutItem"},  # keeps the published events; reads the stream
    "DeliverWebhooksFunction": {"dynamodb:UpdateItem"},  # counts its failed tries, records deliveries
    "EventsApiFunction": {"dynamodb:Query", "dynamodb:BatchGetItem"},  # BatchGetItem: delivery statuses
    "OperatorReadsFunction": {"dynamodb:Query"},  # the order itself, for a search by order id
}
# What each function may do on the merchant-events resources (the bus, the webhook queue and key).
EVENT_ACTIONS = {
    "PublishEventsFunction": {"events:PutEvents", "sqs:SendMessage"},
    "DeliverWebhooksFunction": {
        "secretsmanager:GetSecretValue",
        "sqs:ChangeMessageVisibility",
        "sqs:SendMessage",  # to the dead-letter queue, after 24 hours of tries
    },
    "EventsApiFunction": {"events:PutEvents", "sqs:SendMessage"},
}
EVENT_RESOURCES = (
    {"Fn::GetAtt": ["MerchantEventBus", "Arn"]},
    {"Fn::GetAtt": ["WebhookQueue", "Arn"]},
    {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]},
    {"Ref": "WebhookSigningSecret"},
)
# What each function may do on the orders table's indexes (the reconciler reads the due work).
INDEX_ACTIONS = {"ReconcileFunction": {"DueIndex": {"dynamodb:Query"}}}
INDEX_ACTIONS["OperatorReadsFunction"] = {
    index: {"dynamodb:Query"}
    for index in (
        "OrdersByCreated",
        "OrdersByStatus",
        "OrdersByProvider",
        "OrdersByProviderStatus",
        "FlaggedOrders",
        "OrderLookup",
        "MovementsByDay",
    )
}
READS_SECRET = {
    "CreateOrderFunction",
    "DoctorFunction",
    "NotifyFunction",
    "OrderActionsFunction",
    "ReconcileFunction",
}


def statements(template: Template, function: str) -> list[dict[str, Any]]:
    policies = template.resources[function]["Properties"]["Policies"]
    assert all(isinstance(policy, dict) and "Statement" in policy for policy in policies), "inline only"
    return [statement for policy in policies for statement in policy["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("function", sorted(TABLE_ACTIONS))
def test_least_privilege(template: Template, function: str) -> None:
    table_actions: set[str] = set()
    index_actions: dict[str, set[str]] = {}
    event_actions: set[str] = set()
    secret_actions: set[str] = set()
    for statement in statements(template, function):
        assert statement["Effect"] == "Allow"
        actions = set(as_list(statement["Action"]))
        resources = as_list(statement["Resource"])
        assert not any("*" in action for action in actions), actions
        assert all(isinstance(resource, dict) for resource in resources), "no literal ARNs or wildcards"
        for resource in resources:
            if resource == {"Fn::GetAtt": ["OrdersTable", "Arn"]}:
                table_actions |= actions
            elif str(resource.get("Fn::Sub", "")).startswith("${OrdersTable.Arn}/index/"):
                index = resource["Fn::Sub"].rsplit("/", 1)[-1]
                index_actions[index] = index_actions.get(index, set()) | actions
            elif resource in EVENT_RESOURCES:
                event_actions |= actions
            elif resource == {"Ref": "ProviderCredentialsSecret"}:
                secret_actions |= actions
            else:
                pytest.fail(f"{function} reaches {resource}")
    assert table_actions == TABLE_ACTIONS[function]
    assert index_actions == INDEX_ACTIONS.get(function, {})
    assert event_actions == EVENT_ACTIONS.get(function, set())
    assert secret_actions == ({"secretsmanager:GetSecretValue"} if function in READS_SECRET else set())


def test_routes_and_api_keys(template: Template) -> None:
    routes = {
        (route.method, route.path): (spec.logical_id, route.api_key_required)
        for spec in template.functions()
        for route in spec.routes
    }
    assert routes == {
        ("POST", "/orders"): ("CreateOrderFunction", True),
        ("GET", "/orders"): ("OperatorReadsFunction", True),
        ("GET", "/reports/daily"): ("OperatorReadsFunction", True),
        ("GET", "/console"): ("ConsoleFunction", False),
        ("GET", "/console/{asset}"): ("ConsoleFunction", False),
        ("GET", "/orders/{order_id}"): ("GetOrderFunction", True),
        ("POST", "/orders/{order_id}/refunds"): ("OrderActionsFunction", True),
        ("POST", "/orders/{order_id}/cancel"): ("OrderActionsFunction", True),
        ("POST", "/orders/{order_id}/sync"): ("OrderActionsFunction", True),
        ("GET", "/events"): ("EventsApiFunction", True),
        ("POST", "/events/{event_id}/redeliver"): ("EventsApiFunction", True),
        ("GET", "/orders/{order_id}/events"): ("EventsApiFunction", True),
        ("POST", "/notify/{provider}"): ("NotifyFunction", False),
        ("GET", "/notify/{provider}"): ("NotifyFunction", False),
        ("GET", "/notifications/rejected"): ("DoctorFunction", True),
        ("POST", "/notifications/rejected/{attempt_id}/replay"): ("DoctorFunction", True),
        ("GET", "/diagnostics"): ("DoctorFunction", True),
    }
    api = template.resources["PaymentsApi"]["Properties"]
    assert api["Auth"]["UsagePlan"]["CreateUsagePlan"] == "PER_API"


def test_orders_table_is_durable(template: Template) -> None:
    table = template.resources["OrdersTable"]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_functions_are_traced_json_logging_python312(template: Template) -> None:
    glob = template.doc["Globals"]["Function"]
    assert glob["Runtime"] == "python3.12"
    assert glob["Tracing"] == "Active"
    assert glob["LoggingConfig"]["LogFormat"] == "JSON"
    env = glob["Environment"]["Variables"]
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"} <= set(env)


def test_environment_carries_only_names_and_arns(template: Template) -> None:
    refs = {
        "OrdersTable": "orders",
        "ProviderCredentialsSecret": "arn:secret",
        "MerchantEventBus": "bus",
        "WebhookQueue": "https://sqs/queue.fifo",
        "WebhookDeadLetterQueue": "https://sqs/dead-letter.fifo",
        "WebhookSigningSecret": "arn:webhook",
    }
    for spec in template.functions():
        env = template.environment(spec, refs)
        assert env["ORDERS_TABLE_NAME"] == "orders"
        assert "PUBLIC_BASE_URL" not in env  # only when the PublicBaseUrl parameter is set
        assert ("PROVIDER_SECRET_ARN" in env) == (spec.logical_id in READS_SECRET)
        for value in env.values():
            assert "key" not in value.lower()


def test_layer_is_built_for_python312(template: Template) -> None:
    layer = template.resources["PaymentsLayer"]
    # layers/payments/Makefile: Lambda wheels + bytecode (tests/e2e/test_emulator.py checks the output)
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]


def notify_url_output(provider: str) -> str:
    """The Output naming a provider's notify URL: its name in CamelCase, e.g. some_pay -> SomePayNotifyUrl."""
    return "".join(part.capitalize() for part in provider.split("_")) + "NotifyUrl"


def test_outputs_name_every_notify_url(template: Template) -> None:
    outputs = template.doc["Outputs"]
    assert {"ApiUrl", *map(notify_url_output, kits())} <= set(outputs)
