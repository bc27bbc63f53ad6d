"""A provider is one folder of the same shape (docs/adding-a-provider.md): nothing outside a
provider's folders names it, so adding one touches nothing else.

A provider's folders are the paths with a directory named like it (layers/payments/payments/
providers/<name>/, local/providers/<name>/, tests/providers/<name>/, events/<name>/, ...). Prose
that lists the providers may name them: docs/, the README, the benchmark figures (bench/README.md:
measured per provider) and template.yaml's Outputs (the notification URL each provider is given).
"""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest

from local.testing import kits

ROOT = Path(__file__).resolve().parents[2]
ANYWHERE = ("docs/", "README.md", "bench/README.md")


def name_pattern(name: str) -> re.Pattern[str]:
    """`some_pay` also as some-pay, SomePay, "Some pay"; plus the provider's nicknames
    (`ALSO_KNOWN_AS` in local/providers/<name>/__init__.py), as whole words."""
    spellings = ["[_\\- ]?".join(map(re.escape, name.split("_")))]
    nicknames = getattr(importlib.import_module(f"local.providers.{name}"), "ALSO_KNOWN_AS", ())
    spellings += [f"(?<![a-z]){re.escape(nickname)}(?![a-z])" for nickname in nicknames]
    return re.compile("|".join(spellings), re.IGNORECASE)


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],  # noqa: S607 (git on PATH, as for CI)
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [path for path in listed.stdout.splitlines() if (ROOT / path).is_file()]


def text_to_check(root: Path, path: str) -> str | None:
    try:
        text = (root / path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None  # binary
    if path == "template.yaml":
        # Outputs: one notification URL per provider, for the deployer to hand each provider.
        text = text.split("\nOutputs:", 1)[0]
    return text


def misplaced_mentions(paths: list[str], root: Path = ROOT) -> list[str]:
    patterns = {name: name_pattern(name) for name in kits()}
    found = []
    for path in paths:
        if path.startswith(ANYWHERE):
            continue
        text = text_to_check(root, path)
        if text is None:
            continue
        folders = set(Path(path).parts[:-1])
        for name, pattern in patterns.items():
            if name in folders:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if pattern.search(line):
                    found.append(f"{path}:{number}: {name}: {line.strip()[:100]}")
    return found


def test_providers_are_named_only_in_their_own_folders() -> None:
    found = misplaced_mentions(tracked_files())
    assert not found, "provider named outside its folders:\n" + "\n".join(found)


def test_the_check_sees_a_name_outside_its_folder(tmp_path: Path) -> None:
    """The guard itself: a provider named in its own folder passes; named in a shared module, in
    another provider's folder or in template.yaml's resources, it is found."""
    first, second, *_ = kits()
    files = {
        f"local/providers/{first}/kit.py": f"# the {first} kit\n",
        "local/stack.py": f"# ok\n# starts {first}\n",
        f"tests/providers/{first}/test_x.py": f"# unlike {second}\n",
        "template.yaml": f"Resources:\n  # {second}\nOutputs:\n  # {first}\n",
        "docs/x.md": f"{first} and {second}\n",
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    found = misplaced_mentions(list(files), tmp_path)
    assert [line.split(": ")[0] for line in found] == [
        "local/stack.py:2",
        f"tests/providers/{first}/test_x.py:1",
        "template.yaml:2",
    ]


@pytest.mark.parametrize("name", list(kits()))
def test_every_provider_has_the_same_folders(name: str) -> None:
    """The shape adding a provider follows (docs/adding-a-provider.md)."""
    expected = [
        f"layers/payments/payments/providers/{name}/adapter.py",
        f"local/providers/{name}/sandbox.py",
        f"local/providers/{name}/checkout.py",
        f"local/providers/{name}/kit.py",
        f"tests/providers/{name}/fixtures.py",
    ]
    assert [path for path in expected if not (ROOT / path).is_file()] == []
