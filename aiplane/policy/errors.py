"""What goes wrong in a policy file, and where."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# A path into the policy document: mapping keys and list indices, from the root.
KeyPath = tuple[object, ...]


@dataclass(frozen=True)
class PolicyIssue:
    """One problem, at a 1-based line and column of the file (0:0 when it concerns the whole file)."""

    file: str
    line: int
    column: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.reason}"


class PolicyError(Exception):
    """The policy file is unusable; `issues` lists every problem found, in file order."""

    def __init__(self, issues: Iterable[PolicyIssue]) -> None:
        self.issues: list[PolicyIssue] = sorted(issues, key=lambda issue: (issue.line, issue.column))
        super().__init__("\n".join(str(issue) for issue in self.issues))

    def __reduce__(self) -> tuple[type[PolicyError], tuple[list[PolicyIssue]]]:
        return PolicyError, (self.issues,)


@dataclass(frozen=True)
class Finding:
    """A problem located by its path in the document, before it is mapped to a line.

    `at_key` points at the key of the last path element (an unknown or misspelt key)
    rather than at its value.
    """

    path: KeyPath
    message: str
    at_key: bool = False
