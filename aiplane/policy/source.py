"""A policy file's YAML: its data, and the line and column of every key and value in it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import Finding, KeyPath, PolicyError, PolicyIssue

Position = tuple[int, int]  # 1-based line and column

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class _Node:
    key: Position | None  # where its key is written; None for list items and the root
    value: Position


class PolicySource:
    def __init__(self, file: str, data: Any, nodes: dict[KeyPath, _Node], findings: Iterable[Finding]) -> None:
        self.file = file
        self.data = data
        self.findings = tuple(findings)  # problems YAML itself hides, such as duplicate keys
        self._nodes = nodes

    def issue(self, finding: Finding) -> PolicyIssue:
        """Locate a finding at the deepest node of its path that the file has.

        KeyPath elements the file lacks are passed over: a missing key, or the name pydantic
        gives a union member.
        """
        found: KeyPath = ()
        for part in finding.path:
            if found + (part,) in self._nodes:
                found += (part,)
        node = self._nodes[found]
        key_position = node.key if finding.at_key and found == finding.path else None
        line, column = key_position or node.value
        where = _format_path(found[:-1] if key_position else found)
        return PolicyIssue(self.file, line, column, f"{where}: {finding.message}" if where else finding.message)


def _format_path(path: KeyPath) -> str:
    """`model_providers[0].access_key`"""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def read_source(text: str, file: str) -> PolicySource:
    """Parse YAML, keeping positions; raises PolicyError for a syntax error."""
    try:
        return _read(text, file)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = _position(mark) if mark else (0, 0)
        raise PolicyError([PolicyIssue(file, line, column, f"invalid YAML: {error.problem or error}")]) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        raise PolicyError([PolicyIssue(file, line, column, f"invalid YAML: {error.reason}")]) from None


def _read(text: str, file: str) -> PolicySource:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:  # an empty file: reported as lacking `version`
            return PolicySource(file, {}, {(): _Node(None, (1, 1))}, ())
        nodes = {(): _Node(None, _position(root.start_mark))}
        findings: list[Finding] = []
        _index(loader, root, (), nodes, findings)
        return PolicySource(file, loader.construct_document(root), nodes, findings)
    finally:
        loader.dispose()


def _position(mark: yaml.Mark) -> Position:
    return mark.line + 1, mark.column + 1


def _index(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: KeyPath,
    nodes: dict[KeyPath, _Node],
    findings: list[Finding],
    ancestors: tuple[yaml.Node, ...] = (),
) -> None:
    if any(node is ancestor for ancestor in ancestors):
        problem = "an alias refers to a node that contains it"
        raise yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark)
    ancestors += (node,)
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            nodes[path + (i,)] = _Node(None, _position(item.start_mark))
            _index(loader, item, path + (i,), nodes, findings, ancestors)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            # Keys merged in with `<<` and non-scalar keys are not indexed: errors under them
            # point at the enclosing mapping.
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            child = path + (loader.construct_object(key_node),)
            if child in nodes:
                first_line, _ = nodes[child].key or nodes[child].value
                message = f"duplicate key '{child[-1]}' (first at line {first_line}); YAML keeps only this one"
                findings.append(Finding(child, message, at_key=True))
            nodes[child] = _Node(_position(key_node.start_mark), _position(value_node.start_mark))
            _index(loader, value_node, child, nodes, findings, ancestors)
