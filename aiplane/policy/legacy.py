"""Rewrites Plano's deprecated spellings into the shape `Policy` validates.

Each rewrite records where the moved data was written, so that an error found later still
points at the user's own line.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Finding, KeyPath

# (legacy path, current path)
RENAMED_KEYS: tuple[tuple[KeyPath, KeyPath], ...] = (
    (("llm_providers",), ("model_providers",)),
    (("state_storage_v1_responses",), ("state_storage",)),
    (("tracing", "span_attribute_header_prefixes"), ("tracing", "span_attributes", "header_prefixes")),
)

# Plano's object-form listeners: the prompt gateway's ingress and the LLM gateway's egress.
LEGACY_LISTENER_TYPES = {"ingress_traffic": "prompt", "egress_traffic": "model"}
LEGACY_LISTENER_KEYS = ("address", "port", "message_format", "timeout")


@dataclass(frozen=True)
class Normalized:
    data: Any
    findings: tuple[Finding, ...]  # located by the paths the user wrote
    origins: Mapping[KeyPath, KeyPath]  # a rewritten path -> the path the user wrote

    def original_path(self, path: KeyPath) -> KeyPath:
        for length in range(len(path), 0, -1):
            origin = self.origins.get(path[:length])
            if origin is not None:
                return origin + path[length:]
        return path


def normalize_legacy(document: Any) -> Normalized:
    if not isinstance(document, Mapping):
        return Normalized(document, (), {})
    rewrite = _Rewrite(copy.deepcopy(dict(document)))
    for old, new in RENAMED_KEYS:
        rewrite.move(old, new)
    rewrite.listeners_as_list()
    rewrite.filter_chains_as_input_filters()
    return Normalized(rewrite.data, tuple(rewrite.findings), rewrite.origins)


class _Rewrite:
    def __init__(self, data: dict[Any, Any]) -> None:
        self.data = data
        self.findings: list[Finding] = []
        self.origins: dict[KeyPath, KeyPath] = {}

    def mapping_at(self, path: KeyPath, create: bool = False) -> dict[Any, Any] | None:
        node: Any = self.data
        for key in path:
            if isinstance(node, dict):
                if key not in node and create:
                    node[key] = {}
                node = node.get(key)
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                node = node[key]
            else:
                return None
        # Anything but a mapping is left where it stands, for validation to report.
        return node if isinstance(node, dict) else None

    def move(self, old: KeyPath, new: KeyPath) -> None:
        source = self.mapping_at(old[:-1])
        if source is None or old[-1] not in source:
            return
        target = self.mapping_at(new[:-1], create=True)
        if target is None:
            return
        value = source.pop(old[-1])
        if new[-1] in target:
            message = f"'{old[-1]}' is the legacy spelling of '{new[-1]}': give only one"
            self.findings.append(Finding(old, message, at_key=True))
            return
        target[new[-1]] = value
        self.origins[new] = old

    def listeners_as_list(self) -> None:
        legacy = self.data.get("listeners")
        if not isinstance(legacy, Mapping):
            return
        listeners: list[Any] = []
        for key, value in legacy.items():
            if key not in LEGACY_LISTENER_TYPES:
                message = (
                    f"unknown listener '{key}': the legacy form has ingress_traffic and egress_traffic; "
                    "write other listeners as a list with type model, prompt or agent"
                )
                self.findings.append(Finding(("listeners", key), message, at_key=True))
                continue
            if value is None or isinstance(value, Mapping):
                settings = self._legacy_listener_keys(key, value or {})
                value = {"name": key, "type": LEGACY_LISTENER_TYPES[key], **settings}
            self.origins[("listeners", len(listeners))] = ("listeners", key)
            listeners.append(value)
        self.data["listeners"] = listeners

    def _legacy_listener_keys(self, name: str, listener: Mapping[Any, Any]) -> dict[Any, Any]:
        # Plano's legacy schema allows only these; `name` or `type` here would override ours.
        for extra in (key for key in listener if key not in LEGACY_LISTENER_KEYS):
            message = f"unknown key '{extra}' (a legacy listener has {', '.join(LEGACY_LISTENER_KEYS)})"
            self.findings.append(Finding(("listeners", name, extra), message, at_key=True))
        return {key: value for key, value in listener.items() if key in LEGACY_LISTENER_KEYS}

    def filter_chains_as_input_filters(self) -> None:
        # Plano v0.3 called an agent's filters `filter_chain`; later versions `input_filters`.
        listeners = self.data.get("listeners")
        for i, listener in enumerate(listeners if isinstance(listeners, list) else ()):
            agents = listener.get("agents") if isinstance(listener, dict) else None
            for j in range(len(agents) if isinstance(agents, list) else 0):
                agent: KeyPath = ("listeners", i, "agents", j)
                self.move(agent + ("filter_chain",), agent + ("input_filters",))
