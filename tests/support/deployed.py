"""A deployed stack as the operator's commands find it (local/deployed.py): a CloudFormation stack in
moto with every output template.yaml declares, those a test gives set, the others a placeholder."""

from __future__ import annotations

import json
from collections.abc import Mapping

from local.testing import Template
from tests.support.aws import client


def deploy_outputs(name: str, template: Template, given: Mapping[str, str]) -> None:
    """The stack `name` whose outputs are template.yaml's, with the values `given`. Its one resource is a
    placeholder (a stack needs one): its outputs are what the commands read."""
    outputs = {output: {"Value": given.get(output, "-")} for output in template.doc["Outputs"]}
    assert set(given) <= set(outputs), (
        f"outputs read that template.yaml no longer declares: {set(given) - set(outputs)}"
    )
    body = {"Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}}, "Outputs": outputs}
    client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(body))
