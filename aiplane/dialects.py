"""Which provider APIs aiplane can speak: one table both planes read.

A provider entry whose interface is not in the table can never be served, so it is
disabled with the reason (its models answer 503 `provider_disabled`) and gets no
Envoy route or cluster.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiplane.policy import ModelProvider, Policy

# Provider interfaces the decision server can send a request to, as the policy names them.
SUPPORTED_PROVIDER_INTERFACES = frozenset({"openai"})


def unsupported_reason(entry: ModelProvider) -> str | None:
    if entry.provider_interface in SUPPORTED_PROVIDER_INTERFACES:
        return None
    supported = ", ".join(sorted(SUPPORTED_PROVIDER_INTERFACES))
    return f"provider_interface `{entry.provider_interface}` is not supported yet (supported: {supported})"


def provider_availability(policy: Policy, env: Mapping[str, str]) -> tuple[tuple[ModelProvider, str | None], ...]:
    """Each provider entry and why it cannot serve, or None when it can."""
    return tuple((entry, reason or unsupported_reason(entry)) for entry, reason in policy.provider_status(env))
