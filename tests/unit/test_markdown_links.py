"""Every relative link in the project's Markdown leads somewhere: the file (or folder) exists in the
repository, and an anchor (`#…`) names a heading of the Markdown file it points into, as GitHub
renders it (lowercase, punctuation removed, spaces to hyphens, repeats numbered `-1`, `-2`).

Links to the web (`https:`, `mailto:` …) are not followed: tests never reach the internet. Code (fenced
blocks, inline spans) is not prose: a link shown there is an example, not a link.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from tests.unit.test_provider_folders import ROOT, tracked_files

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
# [text](target "title") and ![alt](target): text may hold one level of brackets ([`x`][y] aside).
INLINE_LINK = re.compile(r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"(?m)^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_TARGET = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
HTML_ANCHOR = re.compile(r"""<a\s[^>]*\b(?:id|name)\s*=\s*["']([^"']+)["']""")
SCHEME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")


def prose_lines(text: str) -> list[str]:
    """The text's lines, those of fenced code blocks emptied (line numbers stay as they were)."""
    lines, fence = [], ""
    for line in text.splitlines():
        opened = FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            lines.append("")
            continue
        if opened:
            fence = opened.group(1)
            lines.append("")
            continue
        lines.append(line)
    return lines


def github_anchor(heading: str) -> str:
    """GitHub's id for a heading: its text as rendered, lowercased, without punctuation, spaces to `-`."""
    text = CODE_SPAN.sub(lambda match: match.group(2).strip(), heading)
    text = re.sub(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", text)  # a link: its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a Markdown file offers: its headings' (numbered when repeated) and explicit ones."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(text):
        heading = HEADING.match(line)
        if heading:
            slug = github_anchor(heading.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
        found |= set(HTML_ANCHOR.findall(line))
    return found


def link_targets(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link, image and reference definition outside code; a link's text
    may run over several lines."""
    prose = "\n".join(prose_lines(text))
    prose = CODE_SPAN.sub(lambda match: "\n" * match.group(0).count("\n"), prose)
    found = sorted(
        [*INLINE_LINK.finditer(prose), *REFERENCE_DEFINITION.finditer(prose), *HTML_TARGET.finditer(prose)],
        key=lambda match: match.start(1),
    )
    return [(prose.count("\n", 0, match.start(1)) + 1, match.group(1).strip("<>")) for match in found]


def broken_links(paths: list[str], root: Path = ROOT) -> list[str]:
    """Each relative link among `paths` (repository-relative) whose file or anchor does not exist."""
    files = set(paths)
    folders = {str(parent) for path in paths for parent in Path(path).parents}
    markdown = [path for path in paths if path.endswith(".md")]
    offered = {path: anchors((root / path).read_text(encoding="utf-8")) for path in markdown}
    problems = []
    for path in markdown:
        for number, target in link_targets((root / path).read_text(encoding="utf-8")):
            if SCHEME.match(target):
                continue  # the web: not followed
            file_part, _, fragment = target.partition("#")
            if file_part:
                base = Path() if file_part.startswith("/") else Path(path).parent
                resolved = (root / base / unquote(file_part).lstrip("/")).resolve()
                try:
                    linked = str(resolved.relative_to(root.resolve()))
                except ValueError:
                    problems.append(f"{path}:{number}: {target}: outside the repository")
                    continue
            else:
                linked = path
            if linked not in files and linked not in folders:
                problems.append(f"{path}:{number}: {target}: no such file")
            elif fragment and linked in offered and unquote(fragment) not in offered[linked]:
                problems.append(f"{path}:{number}: {target}: no heading #{fragment} in {linked}")
    return problems


def test_every_relative_link_and_anchor_in_the_markdown_exists() -> None:
    paths = tracked_files()
    assert "README.md" in paths
    assert "docs/api.md" in paths
    assert broken_links(paths) == []


def test_a_broken_link_and_a_broken_anchor_are_caught(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n\n## Cancel and expiry, by provider\n\n## Try `sam local invoke`\n\n## Notes\n\n## Notes\n"
    )
    (tmp_path / "README.md").write_text(
        "# Top\n\n## Local stack\n\n"
        "[fine](docs/guide.md#cancel-and-expiry-by-provider), [also](docs/guide.md#try-sam-local-invoke),\n"
        "[second notes](docs/guide.md#notes-1), [here](#local-stack), [folder](docs/), [web](https://x.test/y)\n"
        "[a link over\ntwo lines](docs/guide.md#no-such-heading)\n"
        "`[in code](missing.md)`\n\n```\n[in a block](missing.md)\n```\n\n"
        "[gone](docs/missing.md) and [no anchor](docs/guide.md#cancel-and-expiry)\n"
        "[not here](#quick-start) and [escaping](../outside.md)\n"
    )
    paths = ["README.md", "docs/guide.md"]
    assert broken_links(paths, tmp_path) == [
        "README.md:8: docs/guide.md#no-such-heading: no heading #no-such-heading in docs/guide.md",
        "README.md:15: docs/missing.md: no such file",
        "README.md:15: docs/guide.md#cancel-and-expiry: no heading #cancel-and-expiry in docs/guide.md",
        "README.md:16: #quick-start: no heading #quick-start in README.md",
        "README.md:16: ../outside.md: outside the repository",
    ]


def test_anchors_are_made_as_github_makes_them() -> None:
    assert github_anchor("Merchant events: every change, pushed, signed, once per change, in order") == (
        "merchant-events-every-change-pushed-signed-once-per-change-in-order"
    )
    assert github_anchor("Try a function with `sam local invoke`") == "try-a-function-with-sam-local-invoke"
    assert github_anchor("Query: `cashier.payQuery`") == "query-cashierpayquery"
    assert github_anchor("resultCode to our status (`STATUS_TABLE`)") == (
        "resultcode-to-our-status-status_table"
    )
    assert github_anchor("Refund and cancel (`providers/x/adapter.py`: `refund`)") == (
        "refund-and-cancel-providersxadapterpy-refund"
    )
