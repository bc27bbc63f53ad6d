"""Read template.yaml — the single source of wiring — for the tests and the local stack.

Gives the functions (handler, code, environment, API routes) and provisions the template's tables
and secret in whatever DynamoDB / Secrets Manager the given clients talk to (moto in tests).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
NO_VALUE = object()


# libyaml's parser when PyYAML has it (its wheels do): the same documents, ~8x faster than the pure-Python
# one, which took ~0.1 s per parse of template.yaml (every test process and local stack parses it).
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """YAML loader that understands CloudFormation's short-form intrinsic functions."""


def _intrinsic(tag: str) -> Any:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _tag in (
    "Ref",
    "GetAtt",
    "Sub",
    "If",
    "Not",
    "Equals",
    "And",
    "Or",
    "Join",
    "Select",
    "Split",
    "FindInMap",
    "ImportValue",
    "Base64",
    "GetAZs",
    "Condition",
):
    _CfnLoader.add_constructor(f"!{_tag}", _intrinsic(_tag))


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form: /orders/{order_id}
    api_key_required: bool


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    environment: Mapping[str, Any]  # unresolved values, as written in the template
    routes: tuple[Route, ...] = field(default_factory=tuple)
    scheduled: bool = False  # invoked on a schedule (a Schedule or ScheduleV2 event)
    timeout_s: int = 3  # its Timeout (Lambda's default 3 s): what its context counts down from


class Template:
    def __init__(self, path: Path = TEMPLATE_PATH) -> None:
        self.path = path
        self.doc: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
        self.resources: dict[str, Any] = self.doc["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == resource_type}

    def parameter_defaults(self) -> dict[str, str]:
        return {name: str(spec.get("Default", "")) for name, spec in self.doc.get("Parameters", {}).items()}

    def functions(self) -> list[FunctionSpec]:
        glob = self.doc.get("Globals", {}).get("Function", {})
        api_defaults = {
            name: res["Properties"].get("Auth", {}).get("ApiKeyRequired", False)
            for name, res in self.of_type("AWS::Serverless::Api").items()
        }
        specs = []
        for name, res in self.of_type("AWS::Serverless::Function").items():
            props = res["Properties"]
            env = {
                **glob.get("Environment", {}).get("Variables", {}),
                **props.get("Environment", {}).get("Variables", {}),
            }
            routes = []
            scheduled = False
            for event in props.get("Events", {}).values():
                scheduled = scheduled or event["Type"] in ("Schedule", "ScheduleV2")
                if event["Type"] != "Api":
                    continue
                ev = event["Properties"]
                api = ev.get("RestApiId", {}).get("Ref")
                required = ev.get("Auth", {}).get("ApiKeyRequired", api_defaults.get(api, False))
                routes.append(Route(ev["Method"].upper(), ev["Path"], bool(required)))
            specs.append(
                FunctionSpec(
                    name,
                    self.path.parent / props["CodeUri"],
                    props["Handler"],
                    env,
                    tuple(routes),
                    scheduled,
                    int(props.get("Timeout", glob.get("Timeout", 3))),
                )
            )
        return specs

    def gateway_responses(self) -> dict[str, dict[str, Any]]:
        """The API's `GatewayResponses` (API Gateway's own answers), by response type, as written."""
        [api] = self.of_type("AWS::Serverless::Api").values()
        responses: dict[str, dict[str, Any]] = api["Properties"].get("GatewayResponses", {})
        return responses

    def function(self, logical_id: str) -> FunctionSpec:
        return next(spec for spec in self.functions() if spec.logical_id == logical_id)

    # -- evaluation ---------------------------------------------------------------------------
    def resolve(
        self, value: Any, refs: Mapping[str, str], parameters: Mapping[str, str] | None = None
    ) -> Any:
        """Evaluate the intrinsics our template uses; NO_VALUE for AWS::NoValue."""
        params = {**self.parameter_defaults(), **(parameters or {})}
        if isinstance(value, str | int | bool):
            return str(value) if not isinstance(value, str) else value
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(f"cannot resolve {value!r}")
        ((fn, arg),) = value.items()
        if fn == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            if arg in params:
                return params[arg]
            return refs[arg]
        if fn == "Fn::GetAtt":
            return refs[f"{arg[0]}.{arg[1]}"]
        if fn == "Fn::If":
            condition, when_true, when_false = arg
            return self.resolve(
                when_true if self.condition(condition, params, refs) else when_false, refs, params
            )
        raise ValueError(f"unsupported intrinsic {fn}")

    def condition(self, name: str, params: Mapping[str, str], refs: Mapping[str, str]) -> bool:
        return bool(self._evaluate(self.doc["Conditions"][name], params, refs))

    def _evaluate(self, expr: Any, params: Mapping[str, str], refs: Mapping[str, str]) -> Any:
        if isinstance(expr, dict) and len(expr) == 1:
            ((fn, arg),) = expr.items()
            if fn == "Fn::Not":
                return not self._evaluate(arg[0], params, refs)
            if fn == "Fn::Equals":
                return self._evaluate(arg[0], params, refs) == self._evaluate(arg[1], params, refs)
            if fn == "Ref":
                return self.resolve(expr, refs, params)
        return expr

    def environment(
        self, spec: FunctionSpec, refs: Mapping[str, str], parameters: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        env = {}
        for key, raw in spec.environment.items():
            value = self.resolve(raw, refs, parameters)
            if value is not NO_VALUE:
                env[key] = value
        return env

    # -- provisioning -------------------------------------------------------------------------
    def provision(
        self,
        dynamodb: Any,
        secretsmanager: Any,
        *,
        prefix: str,
        secret_values: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """Create the template's tables and secrets; return what !Ref / !GetAtt resolve to."""
        refs: dict[str, str] = {}
        for name, res in self.of_type("AWS::DynamoDB::Table").items():
            props = res["Properties"]
            table_name = props.get("TableName", f"{prefix}-{name}")
            description = dynamodb.create_table(**table_arguments(props, table_name))["TableDescription"]
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                dynamodb.update_time_to_live(
                    TableName=table_name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
            pitr = props.get("PointInTimeRecoverySpecification", {})
            if pitr.get("PointInTimeRecoveryEnabled"):
                dynamodb.update_continuous_backups(
                    TableName=table_name,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
            refs[name] = table_name
            refs[f"{name}.Arn"] = description["TableArn"]
            if "LatestStreamArn" in description:
                refs[f"{name}.StreamArn"] = description["LatestStreamArn"]
        for name, res in self.of_type("AWS::SecretsManager::Secret").items():
            props = res["Properties"]
            generated = secrets.token_urlsafe(36) if "GenerateSecretString" in props else None
            value = (secret_values or {}).get(name, generated or props.get("SecretString", "{}"))
            created = secretsmanager.create_secret(
                Name=props.get("Name", f"{prefix}-{name}"), SecretString=value
            )
            refs[name] = created["ARN"]
        # Queues and buses on the same endpoint as DynamoDB (moto in-process, or a moto server).
        endpoint: dict[str, Any] = {"region_name": dynamodb.meta.region_name}
        if "amazonaws.com" not in dynamodb.meta.endpoint_url:  # a moto server on loopback
            endpoint["endpoint_url"] = dynamodb.meta.endpoint_url
        queues = self.of_type("AWS::SQS::Queue")
        sqs = boto3.client("sqs", **endpoint) if queues else None
        # Dead-letter queues first: a queue's redrive policy names one.
        for name, res in sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1]["Properties"]):
            props = res["Properties"]
            fifo = bool(props.get("FifoQueue"))
            attributes = {
                key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                for key in (
                    "FifoQueue",
                    "ContentBasedDeduplication",
                    "DeduplicationScope",
                    "FifoThroughputLimit",
                    "VisibilityTimeout",
                    "MessageRetentionPeriod",
                )
                if key in props
            }
            if "RedrivePolicy" in props:
                policy = props["RedrivePolicy"]
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": self.resolve(policy["deadLetterTargetArn"], refs),
                        "maxReceiveCount": int(policy["maxReceiveCount"]),
                    }
                )
            queue_name = f"{prefix}-{name}" + (".fifo" if fifo else "")
            url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]  # type: ignore[union-attr]
            refs[name] = url
            refs[f"{name}.QueueName"] = queue_name
            refs[f"{name}.Arn"] = sqs.get_queue_attributes(  # type: ignore[union-attr]
                QueueUrl=url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
        buses = self.of_type("AWS::Events::EventBus")
        events = boto3.client("events", **endpoint) if buses else None
        for name in buses:
            bus_name = f"{prefix}-{name}"
            created = events.create_event_bus(Name=bus_name)  # type: ignore[union-attr]
            refs[name] = bus_name
            refs[f"{name}.Arn"] = created["EventBusArn"]
        return refs


def table_arguments(props: Mapping[str, Any], table_name: str) -> dict[str, Any]:
    """CreateTable's arguments for a table of the template's shape (keys, indexes, stream)."""
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    stream = props.get("StreamSpecification")
    if stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    if "SSESpecification" in props:
        kwargs["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled"))}
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if index_kind in props:
            kwargs[index_kind] = props[index_kind]
    return kwargs
