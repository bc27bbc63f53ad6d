"""template.yaml keeps the operations promises of docs/operations.md ("Operating it").

Generic over the template: every function found in it (a function added later included) must log to
a log group of its own with a retention, have an Errors and a Throttles alarm, appear on the dashboard,
and register the SnapStart hooks. Alarms on our own metrics must use a metric the code emits, with the
namespace and dimensions it emits it with; every alarm the operations guide lists must exist, and every
alarm must be in its alarms table. The API access log must carry no body, key or IP field.

Each check returns its problems, so the tests at the end can show that it fails on a broken template.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.testing import ROOT, Template
from tests.support.providers import ANY_PROVIDER

LAYER = ROOT / "layers" / "payments" / "payments"
OPERATIONS = ROOT / "docs" / "operations.md"
ALARM = "AWS::CloudWatch::Alarm"
FUNCTION = "AWS::Serverless::Function"
# Metrics Powertools emits itself (log_metrics(capture_cold_start_metric=True)), with their dimensions.
POWERTOOLS_METRICS = {"ColdStart": {"function_name", "service"}}
# On the dashboard, to be emitted by the service (payments/service.py, being rewritten): OrdersPaid
# when an order becomes paid, RefundsRecorded when a refund enters the ledger. Once the code emits one,
# this test asks for it to be taken off this list.
AWAITED_FROM_SERVICE: set[str] = set()
# The access log may carry these $context variables, and no others: nothing a client sent (body,
# headers, API key or its id, IP, user agent, raw path with its order id) and nothing about identity.
ACCESS_LOG_ALLOWED = {
    "requestId",
    "extendedRequestId",
    "requestTime",
    "requestTimeEpoch",
    "stage",
    "httpMethod",
    "resourcePath",
    "resourceId",
    "status",
    "protocol",
    "responseLength",
    "responseLatency",
    "integrationLatency",
    "integrationStatus",
    "integration.status",
    "integration.latency",
    "error.responseType",
    "wafResponseCode",
    "xrayTraceId",
}
# Words that mark what a client sent or who it is, in a field's name or in its variable's.
ACCESS_LOG_FORBIDDEN = {
    "body",
    "input",
    "override",
    "key",
    "ip",
    "sourceip",
    "identity",
    "authorizer",
    "agent",
}


def ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def functions(template: Template) -> list[str]:
    return sorted(template.of_type(FUNCTION))


def alarms(template: Template) -> dict[str, dict[str, Any]]:
    return {name: res["Properties"] for name, res in template.of_type(ALARM).items()}


def alarm_metrics(alarm: dict[str, Any]) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    """(namespace, metric name, dimensions) of each metric an alarm reads, metric math included."""
    if "MetricName" in alarm:
        yield alarm["Namespace"], alarm["MetricName"], alarm.get("Dimensions", [])
    for query in alarm.get("Metrics", []):
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            yield metric["Namespace"], metric["MetricName"], metric.get("Dimensions", [])


def powertools_env(template: Template) -> tuple[str, str]:
    env = template.doc["Globals"]["Function"]["Environment"]["Variables"]
    return env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]


# -- what the code emits ---------------------------------------------------------------------------
def python_sources() -> list[Path]:
    return sorted(LAYER.rglob("*.py")) + sorted((ROOT / "functions").glob("*/app.py"))


def emitted_metrics() -> dict[str, set[str]]:
    """Metric name -> the dimension names it is emitted with, read from the code.

    Every metric goes through `metrics.add_metric(name="<literal>", …)` on Powertools' shared metric
    set, so it carries the default `service` dimension and nothing else. A dimension added to that
    set, or a metric whose name is not a literal, would make the alarms' dimensions a guess: refused.
    The one exception: `single_metric(name="<literal>")` with one `add_dimension(name="<literal>")` of
    its own (a count by refusal code), which carries `service` and that dimension.
    """
    names: dict[str, set[str]] = {}
    for path in python_sources():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.With):
                names.update(single_metric_dimensions(node))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if node.func.attr == "add_dimension" and _single_metric_target(node, tree):
                continue
            if node.func.attr in ("add_dimension", "set_default_dimensions", "single_metric"):
                pytest.fail(f"{where}: {node.func.attr} changes what alarms must match; teach this test")
            if node.func.attr == "add_metric":
                name = next((kw.value for kw in node.keywords if kw.arg == "name"), None)
                if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                    pytest.fail(f"{where}: add_metric(name=…) must be a literal so it can be alarmed on")
                names[name.value] = {"service"}
    return names


def single_metric_dimensions(block: ast.With) -> dict[str, set[str]]:
    """`with single_metric(name="<literal>", …) as m: m.add_dimension(name="<literal>", …)`: its name
    and dimensions."""
    found: dict[str, set[str]] = {}
    for item in block.items:
        call = item.context_expr
        if not (
            isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "single_metric"
        ):
            continue
        name = next((kw.value for kw in call.keywords if kw.arg == "name"), None)
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            pytest.fail(
                f"line {call.lineno}: single_metric(name=…) must be a literal so it can be alarmed on"
            )
        dimensions = {"service"}
        for node in ast.walk(block):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_dimension"
            ):
                dimension = next((kw.value for kw in node.keywords if kw.arg == "name"), None)
                if not (isinstance(dimension, ast.Constant) and isinstance(dimension.value, str)):
                    pytest.fail(f"line {node.lineno}: add_dimension(name=…) must be a literal")
                dimensions.add(dimension.value)
        found[name.value] = dimensions
    return found


def _single_metric_target(call: ast.Call, tree: ast.Module) -> bool:
    """Whether `call` (an add_dimension) is made on the metric of a `with single_metric(…) as m` block."""
    target = call.func.value if isinstance(call.func, ast.Attribute) else None
    for block in ast.walk(tree):
        if not isinstance(block, ast.With) or call not in list(ast.walk(block)):
            continue
        for item in block.items:
            expr = item.context_expr
            if (
                isinstance(expr, ast.Call)
                and isinstance(expr.func, ast.Name)
                and expr.func.id == "single_metric"
                and isinstance(item.optional_vars, ast.Name)
                and isinstance(target, ast.Name)
                and target.id == item.optional_vars.id
            ):
                return True
    return False


def handler_calls(function: str, template: Template) -> set[str]:
    """The `name.attribute` calls in a handler module, also as `name.attribute(keyword=constant)`."""
    spec = template.function(function)
    module = ast.parse((spec.code_uri / f"{spec.handler.split('.')[0]}.py").read_text())
    calls = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value.id if isinstance(node.func.value, ast.Name) else "?"
            calls.add(f"{target}.{node.func.attr}")
            calls |= {
                f"{target}.{node.func.attr}({kw.arg}={kw.value.value!r})"
                for kw in node.keywords
                if isinstance(kw.value, ast.Constant)
            }
    return calls


# -- the checks ------------------------------------------------------------------------------------
def log_group_problems(template: Template) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    retention = template.doc["Parameters"]["LogRetentionDays"]
    if retention.get("Default") != 365:
        problems.append("LogRetentionDays must default to 365 days (payment audits ask for a year)")
    for function in functions(template):
        group = ref(template.resources[function]["Properties"].get("LoggingConfig", {}).get("LogGroup"))
        resource = template.resources.get(group or "", {})
        if resource.get("Type") != "AWS::Logs::LogGroup":
            problems.append(f"{function}: no LoggingConfig.LogGroup pointing at a log group of the template")
            continue
        if ref(resource["Properties"].get("RetentionInDays")) != "LogRetentionDays":
            problems.append(f"{function}: its log group {group} is not kept LogRetentionDays")
        if group in seen:
            problems.append(f"{function} shares log group {group} with {seen[group]}")
        seen[group or ""] = function
    for name, resource in template.of_type("AWS::Logs::LogGroup").items():
        if "RetentionInDays" not in resource["Properties"]:
            problems.append(f"{name}: a log group without retention keeps logs forever")
    return problems


def function_alarm_problems(template: Template) -> list[str]:
    problems = []
    wanted = {(f, metric) for f in functions(template) for metric in ("Errors", "Throttles")}
    for name, alarm in alarms(template).items():
        if [ref(action) for action in alarm.get("AlarmActions", [])] != ["AlarmTopic"]:
            problems.append(f"{name} does not notify the AlarmTopic")
        for namespace, metric, dimensions in alarm_metrics(alarm):
            if namespace == "AWS/Lambda" and len(dimensions) == 1 and dimensions[0]["Name"] == "FunctionName":
                wanted.discard((ref(dimensions[0]["Value"]) or "", metric))
    problems += [f"{function} has no {metric} alarm" for function, metric in sorted(wanted)]
    return problems


def custom_metric_alarm_problems(template: Template, emitted: dict[str, set[str]]) -> list[str]:
    """Alarms on our metrics: a metric the code emits, in its namespace, with exactly its dimensions."""
    namespace, service = powertools_env(template)
    problems = []
    for name, alarm in alarms(template).items():
        for alarm_namespace, metric, dimensions in alarm_metrics(alarm):
            if alarm_namespace.startswith("AWS/"):
                continue
            if alarm_namespace != namespace:
                problems.append(f"{name}: namespace {alarm_namespace}, but the code emits to {namespace}")
            if metric not in emitted:
                problems.append(f"{name}: the code never emits {metric}")
                continue
            expected = dict.fromkeys(emitted[metric], service)  # only `service` (see emitted_metrics)
            got = {dimension["Name"]: dimension["Value"] for dimension in dimensions}
            if got != expected or len(dimensions) != len(expected):
                problems.append(f"{name}: dimensions {got}, but {metric} is emitted with {expected}")
    return problems


def documented_alarm_metrics(text: str) -> set[str]:
    """The metric column (second) of the alarms table in docs/operations.md's "Alarms" section."""
    table = text.split("\n## Alarms", 1)[1].split("\n#", 1)[0]
    names = set()
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and not set(cells[1]) <= set("-: "):
            names |= set(re.findall(r"`([A-Za-z0-9]+)`", cells[1]))
    return names


def documentation_problems(template: Template, guide: str, emitted: dict[str, set[str]]) -> list[str]:
    namespace, _ = powertools_env(template)
    listed = documented_alarm_metrics(guide)
    in_template = {
        (ns, metric) for alarm in alarms(template).values() for ns, metric, _ in alarm_metrics(alarm)
    }
    problems = []
    for metric in sorted(listed):
        if metric in emitted and (namespace, metric) not in in_template:
            problems.append(
                f"docs/operations.md lists an alarm on {metric}, emitted by the code: none in the template"
            )
        elif not any(metric == m for _, m in in_template):
            problems.append(f"docs/operations.md lists an alarm on {metric}: none in the template")
    for ns, metric in sorted(in_template):
        if metric not in listed:
            problems.append(f"the alarm on {ns} {metric} is not in docs/operations.md's alarms table")
    return problems


def words(name: str) -> set[str]:
    """`$context.identity.sourceIp` -> {"context", "identity", "source", "ip", "sourceip"}."""
    found = set()
    for part in re.split(r"[^A-Za-z0-9]+", name):
        camel = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", part)
        found |= {word.lower() for word in camel} | {part.lower()}
    return found


def access_log_problems(template: Template) -> list[str]:
    setting = template.resources["PaymentsApi"]["Properties"].get("AccessLogSetting")
    if not setting:
        return ["PaymentsApi has no access log"]
    problems = []
    destination = setting.get("DestinationArn")
    group = destination.get("Fn::GetAtt", [None])[0] if isinstance(destination, dict) else None
    if group not in template.of_type("AWS::Logs::LogGroup"):
        problems.append("the access log does not go to a log group of the template")
    try:
        fields = json.loads(setting["Format"])
    except ValueError:
        return [*problems, "the access log format is not JSON"]
    for field, value in fields.items():
        variables = re.findall(r"\$(\w+)\.([\w.]+)", str(value))
        if (words(field) | words(str(value))) & ACCESS_LOG_FORBIDDEN:
            problems.append(f"access log field {field!r} = {value!r} carries a body, key, IP or identity")
        elif len(variables) != 1 or variables[0][0] != "context" or variables[0][1] not in ACCESS_LOG_ALLOWED:
            problems.append(f"access log field {field!r} = {value!r} is not one allowed $context variable")
    return problems


def dashboard_widgets(template: Template) -> list[dict[str, Any]]:
    body = template.resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets: list[dict[str, Any]] = json.loads(re.sub(r"\$\{([^}]+)\}", r"<\1>", body))["widgets"]
    return widgets


def dashboard_problems(template: Template, emitted: dict[str, set[str]]) -> list[str]:
    namespace, service = powertools_env(template)
    problems = []
    duration, cold_starts = set(), set()
    for widget in dashboard_widgets(template):
        for metric in widget["properties"].get("metrics", []):
            if isinstance(metric[0], dict):  # a metric-math expression over the others
                continue
            metric_namespace, name, *rest = [part for part in metric if isinstance(part, str)]
            dimensions = dict(zip(rest[::2], rest[1::2], strict=True))
            if metric_namespace == "AWS/Lambda" and name == "Duration":
                duration.add(dimensions["FunctionName"].strip("<>"))
            if metric_namespace.startswith("AWS/"):
                continue
            if metric_namespace != namespace:
                problems.append(f"dashboard: {name} in namespace {metric_namespace}, not {namespace}")
            known = emitted.get(name) or POWERTOOLS_METRICS.get(name)
            if name in AWAITED_FROM_SERVICE:
                if name in emitted:
                    problems.append(f"{name} is emitted now: take it off AWAITED_FROM_SERVICE")
                known = {"service"}
            if known is None:
                problems.append(f"dashboard: the code never emits {name}")
            elif set(dimensions) != known or dimensions["service"] != service:
                problems.append(f"dashboard: {name} with dimensions {dimensions}, emitted with {known}")
            if name == "ColdStart":
                cold_starts.add(dimensions["function_name"].strip("<>"))
    for function in functions(template):
        if function not in duration:
            problems.append(f"dashboard: no Duration of {function}")
        if function not in cold_starts:
            problems.append(f"dashboard: no ColdStart of {function}")
    return problems


# -- tests -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def emitted() -> dict[str, set[str]]:
    return emitted_metrics()


def test_every_function_logs_to_a_log_group_of_its_own_with_retention(template: Template) -> None:
    assert log_group_problems(template) == []


def test_every_function_has_an_errors_and_a_throttles_alarm(template: Template) -> None:
    assert functions(template), "no functions found"
    assert function_alarm_problems(template) == []


def test_alarms_on_our_metrics_match_what_the_code_emits(
    template: Template, emitted: dict[str, set[str]]
) -> None:
    assert {"NotificationAmountMismatch", "ProviderOutcomeUnknown", "NotificationsRejected"} <= set(emitted)
    assert custom_metric_alarm_problems(template, emitted) == []


def test_every_alarm_in_the_operations_guide_is_in_the_template_and_back(
    template: Template, emitted: dict[str, set[str]]
) -> None:
    guide = OPERATIONS.read_text()
    assert documented_alarm_metrics(guide) >= {"Errors", "Throttles", "NotificationAmountMismatch"}
    assert documentation_problems(template, guide, emitted) == []


def test_the_access_log_is_json_without_body_key_or_ip(template: Template) -> None:
    assert access_log_problems(template) == []


def test_the_dashboard_shows_what_the_code_emits_and_every_function(
    template: Template, emitted: dict[str, set[str]]
) -> None:
    assert dashboard_problems(template, emitted) == []


def test_the_dashboard_reads_rejections_from_the_log_record_the_code_writes(template: Template) -> None:
    """Rejected notifications by provider come from the notify function's `notification rejected`
    log records (their `provider` and `reason` keys): that record must still be written so."""
    queries = [w["properties"]["query"] for w in dashboard_widgets(template) if w["type"] == "log"]
    assert queries
    assert all(
        "SOURCE '<NotifyFunctionLogGroup>'" in q and "message = 'notification rejected'" in q for q in queries
    )
    written = []
    for path in python_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "notification rejected"
            ):
                extra = next((kw.value for kw in node.keywords if kw.arg == "extra"), None)
                if isinstance(extra, ast.Dict):
                    written.append({key.value for key in extra.keys if isinstance(key, ast.Constant)})
    assert written
    assert all({"provider", "reason"} <= keys for keys in written)


def test_notification_routes_are_throttled_apart_from_the_merchant_routes(template: Template) -> None:
    settings = template.resources["PaymentsApi"]["Properties"]["MethodSettings"]
    by_route = {(s["ResourcePath"], s["HttpMethod"]): s for s in settings}
    default = by_route[("/*", "*")]
    assert ref(default["ThrottlingRateLimit"]) == "MerchantThrottleRate"
    public = [r for spec in template.functions() for r in spec.routes if not r.api_key_required]
    assert public, "no public (provider) routes"
    for route in public:
        own = by_route[("/" + route.path.replace("/", "~1"), route.method)]  # API Gateway's escaping
        assert ref(own["ThrottlingRateLimit"]) == "NotifyThrottleRate", route
        assert ref(own["ThrottlingBurstLimit"]) == "NotifyThrottleBurst", route


def test_reserved_concurrency_is_a_parameter_unset_by_default(template: Template) -> None:
    params = template.doc["Parameters"]
    api_functions = [spec.logical_id for spec in template.functions() if spec.routes]
    assert api_functions
    for function in api_functions:  # behind the API: a flood must not take the others' concurrency
        condition, chosen, unset = template.resources[function]["Properties"]["ReservedConcurrentExecutions"][
            "Fn::If"
        ]
        assert ref(unset) == "AWS::NoValue"
        assert params[ref(chosen) or ""]["Default"] == ""
        assert template.doc["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [chosen, ""]}]}


def test_waf_is_off_by_default_and_rate_limits_notify_only(template: Template) -> None:
    assert template.doc["Parameters"]["EnableNotifyWaf"]["Default"] == "false"
    acl = template.resources["NotifyWebAcl"]
    assert (
        acl["Condition"] == template.resources["NotifyWebAclAssociation"]["Condition"] == "NotifyWafEnabled"
    )
    [rule] = acl["Properties"]["Rules"]
    rate = rule["Statement"]["RateBasedStatement"]
    assert "Block" in rule["Action"]
    assert ref(rate["Limit"]) == "NotifyWafRateLimit"
    assert rate["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == "/notify/"
    target = template.resources["NotifyWebAclAssociation"]["Properties"]["ResourceArn"]["Fn::Sub"]
    assert target.endswith("/restapis/${PaymentsApi}/stages/${PaymentsApi.Stage}")


def test_snapstart_is_off_by_default_on_versions_behind_the_alias_the_api_calls(template: Template) -> None:
    glob = template.doc["Globals"]["Function"]
    assert template.doc["Parameters"]["EnableSnapStart"]["Default"] == "false"
    assert glob["SnapStart"]["ApplyOn"] == {"Fn::If": ["SnapStartEnabled", "PublishedVersions", "None"]}
    assert glob["AutoPublishAlias"]  # SAM points the API events at the alias
    assert template.resources["PaymentsLayer"]["Properties"]["PublishLambdaVersion"] is True
    for function in functions(template):
        # Any change, the layer's included, publishes a version (and so a snapshot) behind the alias.
        assert template.resources[function]["Properties"]["AutoPublishAliasAllProperties"] is True


@pytest.mark.parametrize("function", functions(Template()))
def test_every_handler_registers_the_restore_hooks_and_counts_cold_starts(
    template: Template, function: str
) -> None:
    calls = handler_calls(function, template)
    assert "snapstart.register_runtime_hooks" in calls
    assert "metrics.log_metrics(capture_cold_start_metric=True)" in calls


# -- the checks fail on a broken template ------------------------------------------------------------
def broken(template: Template) -> Template:
    copied = copy.deepcopy(template)
    copied.resources = copied.doc["Resources"]
    return copied


def test_a_function_without_its_log_group_or_retention_fails(template: Template) -> None:
    missing = broken(template)
    del missing.resources["NotifyFunctionLogGroup"]
    assert log_group_problems(missing) == [
        "NotifyFunction: no LoggingConfig.LogGroup pointing at a log group of the template"
    ]
    forever = broken(template)
    del forever.resources["GetOrderFunctionLogGroup"]["Properties"]["RetentionInDays"]
    assert len(log_group_problems(forever)) == 2
    added = broken(template)  # a function added later, by copying another one
    added.resources["RefundFunction"] = copy.deepcopy(added.resources["GetOrderFunction"])
    assert log_group_problems(added) == [
        "RefundFunction shares log group GetOrderFunctionLogGroup with GetOrderFunction"
    ]


def test_a_function_without_an_errors_alarm_fails(template: Template) -> None:
    missing = broken(template)
    del missing.resources["CreateOrderFunctionErrorsAlarm"]
    assert function_alarm_problems(missing) == ["CreateOrderFunction has no Errors alarm"]
    added = broken(template)  # a function added later, without alarms of its own
    added.resources["LaterFunction"] = copy.deepcopy(added.resources["GetOrderFunction"])
    assert function_alarm_problems(added) == [
        "LaterFunction has no Errors alarm",
        "LaterFunction has no Throttles alarm",
    ]


def test_a_documented_alarm_missing_from_the_template_fails(
    template: Template, emitted: dict[str, set[str]]
) -> None:
    missing = broken(template)
    del missing.resources["NotificationAmountMismatchAlarm"]
    assert documentation_problems(missing, OPERATIONS.read_text(), emitted) == [
        "docs/operations.md lists an alarm on NotificationAmountMismatch, emitted by the code:"
        " none in the template"
    ]
    undocumented = OPERATIONS.read_text().replace("`ProviderOutcomeUnknown`", "ProviderOutcomeUnknown")
    assert documentation_problems(template, undocumented, emitted) == [
        "the alarm on AlipayPayments ProviderOutcomeUnknown is not in docs/operations.md's alarms table"
    ]


def test_an_alarm_on_a_metric_or_dimension_the_code_does_not_emit_fails(
    template: Template, emitted: dict[str, set[str]]
) -> None:
    renamed = broken(template)
    renamed.resources["ProviderOutcomeUnknownAlarm"]["Properties"]["MetricName"] = "ProviderUnknown"
    assert custom_metric_alarm_problems(renamed, emitted) == [
        "ProviderOutcomeUnknownAlarm: the code never emits ProviderUnknown"
    ]
    dimensioned = broken(template)
    dimensioned.resources["NotificationsRejectedSpikeAlarm"]["Properties"]["Dimensions"].append(
        {"Name": "provider", "Value": ANY_PROVIDER}
    )
    assert len(custom_metric_alarm_problems(dimensioned, emitted)) == 1


@pytest.mark.parametrize(
    "field",
    [
        '"body":"$input.body"',
        '"apiKey":"$context.identity.apiKey"',
        '"keyId":"$context.identity.apiKeyId"',
        '"ip":"$context.identity.sourceIp"',
        '"client":"$context.identity.sourceIp"',
        '"path":"$context.path"',
        '"agent":"$context.identity.userAgent"',
    ],
)
def test_an_access_log_with_a_body_key_or_ip_field_fails(template: Template, field: str) -> None:
    leaky = broken(template)
    setting = leaky.resources["PaymentsApi"]["Properties"]["AccessLogSetting"]
    setting["Format"] = setting["Format"].rstrip("}") + "," + field + "}"
    assert len(access_log_problems(leaky)) == 1, access_log_problems(leaky)
