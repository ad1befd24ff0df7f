"""YAML text to a validated `Policy`, or a `PolicyError` naming every problem by line."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .errors import Finding, PolicyError, PolicyIssue
from .legacy import LEGACY_LISTENER_TYPES, RENAMED_KEYS, normalize_legacy
from .model import Policy
from .references import reference_findings
from .source import read_source
from .values import CONSEQUENCE, VIOLATION, Frozen


def load_policy(path: str | Path, env: Mapping[str, str] | None = None) -> Policy:
    """Load and validate a policy file; `env` (default: os.environ) is where `$VAR` keys live."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError([PolicyIssue(str(path), 0, 0, f"cannot read the policy file: {error}")]) from None
    return parse_policy(text, source=str(path), env=env)


def parse_policy(text: str, source: str = "<string>", env: Mapping[str, str] | None = None) -> Policy:
    """Validate policy text; `source` names it in error messages."""
    document = read_source(text, source)
    normalized = normalize_legacy(document.data)
    written = [*document.findings, *normalized.findings]  # located by the paths the user wrote
    rewritten: list[Finding] = []  # located by paths after legacy rewriting
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(normalized.data)
    except ValidationError as error:
        rewritten += [_finding(e) for e in error.errors(include_url=False) if e["type"] != CONSEQUENCE]
    if policy is not None:
        rewritten += reference_findings(policy, os.environ if env is None else env)
    issues = [document.issue(f) for f in written]
    issues += [document.issue(Finding(normalized.original_path(f.path), f.message, f.at_key)) for f in rewritten]
    if issues:
        raise PolicyError(issues)
    assert policy is not None
    return policy


def _finding(details: ErrorDetails) -> Finding:
    loc = tuple(details["loc"])
    kind = details["type"]
    if kind == "extra_forbidden":
        return Finding(loc, _unknown_key(loc[-1]), at_key=True)
    if kind == "missing":
        return Finding(loc[:-1], f"missing required key '{loc[-1]}'")
    message = _expected(details["msg"])
    if kind != VIOLATION:
        message += f" (got {_describe(details['input'])})"
    if loc and loc[-1] == "[key]":
        return Finding(loc[:-1], f"key '{loc[-2]}': {message}", at_key=True)
    return Finding(loc, message)


_REWORDINGS = (
    (re.compile(r"^Input should be "), "expected "),
    (re.compile(r"a valid dictionary( or instance of \w+)?"), "a mapping"),
    (re.compile(r"a valid tuple"), "a list"),
)


def _expected(message: str) -> str:
    for pattern, replacement in _REWORDINGS:
        message = pattern.sub(replacement, message)
    return message


_YAML_TYPE_NAMES = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "mapping", list: "list"}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{_YAML_TYPE_NAMES.get(type(value), type(value).__name__)} {shown}"


def _unknown_key(key: object) -> str:
    close = difflib.get_close_matches(str(key), _known_keys(), n=1)
    return f"unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")


@cache
def _known_keys() -> tuple[str, ...]:
    """Every key the policy vocabulary has, for suggestions."""
    keys: set[str] = {path[-1] for pair in RENAMED_KEYS for path in pair if isinstance(path[-1], str)}
    keys |= set(LEGACY_LISTENER_TYPES)
    pending: list[type[BaseModel]] = [Frozen]
    while pending:
        model = pending.pop()
        keys |= set(model.model_fields)
        pending += model.__subclasses__()
    return tuple(sorted(keys))
