"""`make doctor PROVIDERS_FILE=…` (local/doctor.py): the checks run from here against each provider
(its sandbox on the wire), one line each, the failures first with their fix, exit status 1 on a fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses

from local.testing import doctor_main, kits
from tests.conftest import Stack
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
