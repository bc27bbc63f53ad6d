"""`make doctor` (local/doctor.py): with PROVIDERS_FILE, the checks run from here against each provider
(its sandbox on the wire), one line each, the failures first with their fix, exit status 1 on a fail;
with STACK, a deployed stack's GET /diagnostics, found through the stack's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses

from local.testing import (
    API_KEY_OUTPUT,
    API_URL_OUTPUT,
    Gateway,
    InProcessBackend,
    Template,
    doctor_main,
    kits,
)
from tests.conftest import Stack
from tests.support.aws import client
from tests.support.deployed import deploy_outputs
from tests.support.link import ProviderLink
from tests.support.providers import mount


def test_the_report_puts_failures_first_with_their_fix(
    tmp_path: Path,
    stack: Stack,
    wire: responses.RequestsMock,
    link: ProviderLink,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entries = {}
    for kit in kits().values():
        mount(kit, stack, wire, link)
        entries[kit.name] = kit.test_secret_entry()
    right = tmp_path / "right.json"
    right.write_text(json.dumps(entries))
    assert doctor_main(["--providers-file", str(right)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "no check failed"
    assert not any(line.startswith("[FAIL]") for line in out)
    assert {line.split()[2] for line in out if line.startswith("[ok]")} >= {
        "credentials",
        "signing",
        "keys",
    }

    name, kit = next(
        (name, kit) for name, kit in kits().items() if kit.misconfigurations(kit.test_credentials())
    )
    mistake, (check, _status) = next(
        (m, found) for m, found in kit.misconfigurations(kit.test_credentials()).items() if found[1] == "fail"
    )
    wrong = tmp_path / "wrong.json"
    entry = kit.misconfigured_entry(kit.test_credentials(), kit.test_base_url, mistake)
    wrong.write_text(json.dumps({**entries, name: entry}))
    assert doctor_main(["--providers-file", str(wrong)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[FAIL]")
    assert out[1].strip().startswith("fix: ")
    assert any(line.split()[1:3] == [name, check] for line in out if line.startswith("[FAIL]"))
    assert out[-1] == "some checks failed"


def test_a_deployed_stack_is_checked_through_its_outputs(
    stack: Stack,
    template: Template,
    wire: responses.RequestsMock,
    link: ProviderLink,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`make doctor STACK=<name>`: the API's URL and key read from the stack's outputs (moto's
    CloudFormation and API Gateway), then GET /diagnostics over HTTP from the local gateway."""
    for kit in kits().values():
        mount(kit, stack, wire, link)
    specs = template.functions()
    gateway = Gateway(specs, template.gateway_responses(), DEPLOYED_KEY, 0, lambda line: None)
    gateway.serve(
        InProcessBackend(specs, {s.logical_id: template.environment(s, stack.refs) for s in specs}), []
    )
    wire.add_passthru(gateway.base_url)  # the API itself is real HTTP on loopback
    try:
        deploy_api("payments-doctor", template, api_url=gateway.base_url, api_key=DEPLOYED_KEY)
        assert doctor_main(["--stack", "payments-doctor"]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[-1] == "no check failed"
        assert {line.split()[1] for line in out if line.startswith("[ok]")} == set(kits())

        # The key read from the outputs is the one that counts: the gateway refuses another.
        deploy_api(
            "payments-other-key",
            template,
            api_url=gateway.base_url,
            api_key="not-the-merchant-key-0123456789",
        )
        with pytest.raises(SystemExit, match="HTTP 403"):
            doctor_main(["--stack", "payments-other-key"])
    finally:
        gateway.shutdown()
        gateway.server_close()


DEPLOYED_KEY = "deployed-merchant-key-0123456789"


def deploy_api(name: str, template: Template, *, api_url: str, api_key: str) -> None:
    """A deployed stack whose API is at `api_url` with the key `api_key`. The key is made with API
    Gateway's own call: moto's CloudFormation cannot make an `AWS::ApiGateway::ApiKey`."""
    key_id = client("apigateway").create_api_key(name=f"{name}-key", value=api_key, enabled=True)["id"]
    deploy_outputs(name, template, {API_URL_OUTPUT: api_url, API_KEY_OUTPUT: key_id})


def test_a_stack_that_is_not_there_or_not_this_bundle_is_named(stack: Stack) -> None:
    with pytest.raises(SystemExit, match=r"stack payments-absent: .*does not exist"):
        doctor_main(["--stack", "payments-absent"])
    body = {"Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"Other": {"Value": "-"}}}
    client("cloudformation").create_stack(StackName="payments-stranger", TemplateBody=json.dumps(body))
    with pytest.raises(
        SystemExit, match=f"stack payments-stranger has no output {API_URL_OUTPUT}, {API_KEY_OUTPUT}"
    ):
        doctor_main(["--stack", "payments-stranger"])
