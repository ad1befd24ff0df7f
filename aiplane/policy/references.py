"""Checks across sections: names that must be unique, references that must resolve, ports
that must not collide, and the secret the default provider cannot start without."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from aiplane.dialects import CLIENT_DIALECTS, can_serve, provider_dialect

from .errors import Finding, KeyPath
from .model import Policy

_ANY_ADDRESS = ("0.0.0.0", "::", "[::]")


def reference_findings(policy: Policy, env: Mapping[str, str]) -> list[Finding]:
    checks = (
        _unique_names,
        _single_default,
        _offered_models,
        _routing_provider,
        _listener_references,
        _prompt_target_endpoints,
        _distinct_ports,
    )
    findings = [finding for check in checks for finding in check(policy)]
    return findings + list(_default_provider_key(policy, env)) + list(_untranslatable_providers(policy))


def _duplicates(what: str, named: Iterable[tuple[str, KeyPath]]) -> Iterator[Finding]:
    seen: set[str] = set()
    for name, path in named:
        if name in seen:
            yield Finding(path, f"duplicate {what} '{name}'")
        seen.add(name)


def _unique_names(policy: Policy) -> Iterator[Finding]:
    yield from _duplicates(
        "model provider name",
        ((p.name, ("model_providers", i, "name")) for i, p in enumerate(policy.model_providers)),
    )
    yield from _duplicates(
        "listener name", ((lst.name, ("listeners", i, "name")) for i, lst in enumerate(policy.listeners))
    )
    # Plano gives agents and filters one id space: a listener's filters may name either.
    yield from _duplicates(
        "agent or filter id",
        [(a.id, ("agents", i, "id")) for i, a in enumerate(policy.agents)]
        + [(f.id, ("filters", i, "id")) for i, f in enumerate(policy.filters)],
    )
    yield from _duplicates(
        "prompt target name",
        ((t.name, ("prompt_targets", i, "name")) for i, t in enumerate(policy.prompt_targets)),
    )
    yield from _duplicates(
        "routing preference name",
        ((r.name, ("routing_preferences", i, "name")) for i, r in enumerate(policy.routing_preferences)),
    )


def _single_default(policy: Policy) -> Iterator[Finding]:
    defaults = [(i, p) for i, p in enumerate(policy.model_providers) if p.default]
    for i, provider in defaults[1:]:
        first = defaults[0][1].name
        yield Finding(
            ("model_providers", i, "default"),
            f"'{provider.name}' is marked default, but '{first}' already is; only one provider can be",
        )


def _offered_models(policy: Policy) -> Iterator[Finding]:
    def offered(model: str) -> bool:
        return any(provider.offers(model) for provider in policy.model_providers)

    for alias, spec in policy.model_aliases.items():
        if not offered(spec.target):
            yield Finding(
                ("model_aliases", alias, "target"),
                f"alias '{alias}' targets '{spec.target}', which no model provider offers",
            )
    for i, preference in enumerate(policy.routing_preferences):
        for j, model in enumerate(preference.models):
            if not offered(model):
                yield Finding(("routing_preferences", i, "models", j), f"no model provider offers '{model}'")
    names = {provider.name for provider in policy.model_providers}
    for i, limit in enumerate(policy.ratelimits):
        if limit.model not in names and not offered(limit.model):
            yield Finding(("ratelimits", i, "model"), f"no model provider is named or offers '{limit.model}'")


def _routing_provider(policy: Policy) -> Iterator[Finding]:
    wanted = policy.routing.llm_provider if policy.routing else None
    if wanted is not None and all(provider.name != wanted for provider in policy.model_providers):
        yield Finding(("routing", "llm_provider"), f"no model provider is named '{wanted}'")


def _listener_references(policy: Policy) -> Iterator[Finding]:
    agent_ids = {agent.id for agent in policy.agents}
    filter_ids = agent_ids | {f.id for f in policy.filters}

    def unknown_filters(ids: tuple[str, ...], path: KeyPath) -> Iterator[Finding]:
        for k, filter_id in enumerate(ids):
            if filter_id not in filter_ids:
                yield Finding(path + (k,), f"no agent or filter has id '{filter_id}'")

    for i, listener in enumerate(policy.listeners):
        here: KeyPath = ("listeners", i)
        yield from unknown_filters(listener.input_filters, here + ("input_filters",))
        yield from unknown_filters(listener.output_filters, here + ("output_filters",))
        for j, agent in enumerate(listener.agents):
            if agent.id not in agent_ids:
                yield Finding(here + ("agents", j, "id"), f"no agent has id '{agent.id}'")
            yield from unknown_filters(agent.input_filters, here + ("agents", j, "input_filters"))


def _prompt_target_endpoints(policy: Policy) -> Iterator[Finding]:
    # Plano makes an upstream of every agent and filter too, so a prompt target may call one.
    known = set(policy.endpoints) | {a.id for a in policy.agents} | {f.id for f in policy.filters}
    for i, target in enumerate(policy.prompt_targets):
        if target.endpoint and target.endpoint.name not in known:
            name = target.endpoint.name
            yield Finding(
                ("prompt_targets", i, "endpoint", "name"),
                f"prompt target '{target.name}' calls endpoint '{name}', which is not in endpoints",
            )


def _distinct_ports(policy: Policy) -> Iterator[Finding]:
    gateway = policy.gateway
    binds: list[tuple[str, str, int, KeyPath]] = [
        (f"gateway.{name}", bind.address, bind.port, ("gateway", name, "port"))
        for name, bind in (("admin", gateway.admin), ("envoy_admin", gateway.envoy_admin), ("xds", gateway.xds))
    ]
    binds += [
        (f"ext_proc worker {i}", "127.0.0.1", port, ("gateway", "extproc", "base_port"))
        for i, port in enumerate(gateway.extproc.ports())
    ]
    binds += [
        (f"listener '{listener.name}'", listener.address, listener.port, ("listeners", i, "port"))
        for i, listener in enumerate(policy.listeners)
    ]
    for n, (owner, address, port, path) in enumerate(binds):
        taken_by = next(
            (
                other
                for other, other_address, other_port, _ in binds[:n]
                if other_port == port and _overlap(address, other_address)
            ),
            None,
        )
        if taken_by:
            yield Finding(path, f"{owner} wants port {port}, which {taken_by} already uses")


def _overlap(address: str, other: str) -> bool:
    return address == other or address in _ANY_ADDRESS or other in _ANY_ADDRESS


def _default_provider_key(policy: Policy, env: Mapping[str, str]) -> Iterator[Finding]:
    # Other providers without their key are merely disabled; the default must work.
    for i, provider in enumerate(policy.model_providers):
        reason = provider.unavailable_reason(env) if provider.default else None
        if reason:
            message = f"the default provider '{provider.name}' is unusable: {reason}"
            yield Finding(("model_providers", i, "access_key"), message)


def _untranslatable_providers(policy: Policy) -> Iterator[Finding]:
    # Any client may ask for any model, so every client dialect must reach every provider.
    for i, provider in enumerate(policy.model_providers):
        dialect = provider_dialect(provider.provider_interface)
        missing = [client for client in CLIENT_DIALECTS if not can_serve(client, dialect)]
        if missing:
            message = (
                f"provider '{provider.name}' speaks {dialect}, which no translator serves "
                f"{' or '.join(missing)} clients from"
            )
            yield Finding(("model_providers", i, "provider_interface"), message)
