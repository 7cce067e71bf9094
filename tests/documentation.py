"""The project's documentation as a reader meets it: the README and the pages under ``docs/``.

Tests find a section, a code block or a command wherever it lives, so that moving text
between pages keeps the tests on it, while a command that no longer works still fails them.
"""

import re
import shlex
from itertools import pairwise
from pathlib import Path

from tests.helpers import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
DOCS = PROJECT_ROOT / "docs"

FENCED_BLOCK = re.compile(r"^```.*?^```[^\n]*$", flags=re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`([^`]+)`")
HEADING = re.compile(r"^(#{1,6}) (.+)$", flags=re.MULTILINE)
LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)\)")
URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", flags=re.IGNORECASE)
PLACEHOLDER = re.compile(r"<[^>]*>|\.\.\.|…|\$\(")
"""A value the reader fills in: ``<name>``, ``...``, or a shell substitution ``$(command)``."""


def documentation_pages() -> list[Path]:
    """The README and every page under ``docs/``."""
    return [README, *sorted(DOCS.glob("*.md"))]


def without_code(markdown: str) -> str:
    """``markdown`` with its fenced blocks and inline code taken out (their brackets are not links)."""
    return INLINE_CODE.sub("", FENCED_BLOCK.sub("", markdown))


def code_blanked(markdown: str) -> str:
    """``markdown`` with every character of its fenced blocks but line ends blanked (offsets kept)."""
    return FENCED_BLOCK.sub(lambda block: re.sub(r"[^\n]", " ", block.group(0)), markdown)


def headings(markdown: str) -> list[tuple[int, str]]:
    """Each heading of ``markdown`` outside code blocks, as (level, text)."""
    return [
        (len(match.group(1)), match.group(2).strip()) for match in HEADING.finditer(code_blanked(markdown))
    ]


def section(title: str) -> str:
    """The section whose heading starts with ``title``, up to the next heading of its level or above.

    Exactly one page of the documentation must hold it.
    """
    found = []
    for page in documentation_pages():
        text = page.read_text()
        prose = code_blanked(text)
        for match in HEADING.finditer(prose):
            if match.group(2).startswith(title):
                level = len(match.group(1))
                end = re.compile(rf"^#{{1,{level}}} ", flags=re.MULTILINE).search(prose, match.end())
                found.append(text[match.start() : end.start() if end else len(text)])
    assert len(found) == 1, f"{len(found)} sections start with {title!r} in README.md and docs/"
    return found[0]


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: its text lowercased, punctuation dropped, spaces as hyphens."""
    text = LINK.sub(r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The fragments that link to the headings of ``page`` (repeats numbered as GitHub does)."""
    seen: dict[str, int] = {}
    found = set()
    for _, text in headings(page.read_text()):
        anchor = github_anchor(text)
        found.add(f"{anchor}-{seen[anchor]}" if anchor in seen else anchor)
        seen[anchor] = seen.get(anchor, 0) + 1
    return found


def relative_links(page: Path) -> list[str]:
    """The targets of the links and images of ``page`` that point into the repository."""
    targets = (match.group(2) for match in LINK.finditer(without_code(page.read_text())))
    return [target for target in targets if not URL_SCHEME.match(target)]


def broken_link(page: Path, target: str) -> str | None:
    """Why ``target``, linked from ``page``, leads nowhere, or None when it leads to what it names."""
    path, _, fragment = target.partition("#")
    destination = (page.parent / path).resolve() if path else page
    if not destination.exists():
        return f"{page.name}: {target} (no such file)"
    if fragment and destination.suffix == ".md" and fragment not in anchors(destination):
        return f"{page.name}: {target} (no such heading)"
    return None


def kedro_run_commands() -> list[str]:
    """Every ``kedro run`` command the documentation shows a user to type.

    Taken from code blocks and inline code; a transcript line (``$ kedro run ...``) is left out,
    since it shows its own answer and may show a mistake on purpose.
    """
    commands = []
    for page in documentation_pages():
        text = page.read_text()
        for block in FENCED_BLOCK.findall(text):
            commands += [line for line in block.splitlines() if line.startswith("kedro run")]
        for span in INLINE_CODE.findall(FENCED_BLOCK.sub("", text)):
            commands += re.findall(r"kedro run\b.*", " ".join(span.split()))
    return commands


def options(command: str) -> dict[str, list[str]]:
    """The values of each option of a ``kedro run`` command, placeholders (``<name>``, ``...``) left out."""
    words = shlex.split(command, comments=True)[2:]
    values: dict[str, list[str]] = {}
    for option, value in pairwise([*words, ""]):
        if option.startswith("--") and value and not value.startswith("--") and not PLACEHOLDER.search(value):
            values.setdefault(option, []).append(value)
    return values
