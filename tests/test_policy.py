"""The policy file: Plano's vocabulary loads, normalizes to one shape, and every mistake is
reported with its file, line and column."""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pydantic
import pytest

from aiplane.policy import (
    DEFAULT_LISTENER,
    GatewaySettings,
    Listener,
    ModelProvider,
    Policy,
    PolicyError,
    PolicyIssue,
    load_policy,
    parse_policy,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "config" / "examples"
SEED_004 = Path("/work/shared/seeds")
WITH_OPENAI_KEY = {"OPENAI_API_KEY": "sk-test"}


def parse(document: str, env: dict[str, str] | None = None) -> Policy:
    return parse_policy(textwrap.dedent(document), source="policy.yaml", env=env or {})


def issues_in(document: str, env: dict[str, str] | None = None) -> list[PolicyIssue]:
    with pytest.raises(PolicyError) as caught:
        parse(document, env)
    return caught.value.issues


def provider(document: str) -> ModelProvider:
    return parse(document).model_providers[0]


# --- Plano's files load ------------------------------------------------------------------


def test_the_plano_quickstart_loads_and_its_legacy_listener_becomes_a_prompt_listener() -> None:
    policy = load_policy(EXAMPLES / "plano_quickstart.yaml", env=WITH_OPENAI_KEY)

    assert policy.version == "v0.2.0"
    assert policy.listeners == (Listener(name="ingress_traffic", type="prompt", address="0.0.0.0", port=10000),)
    (openai,) = policy.model_providers
    assert (openai.model, openai.default, openai.access_key) == ("openai/gpt-4o", True, "$OPENAI_API_KEY")
    assert policy.endpoints["app_server"].endpoint == ("127.0.0.1:80",)
    assert policy.endpoints["app_server"].connect_timeout == pytest.approx(0.005)
    reboot = policy.prompt_targets[1]
    assert reboot.endpoint is not None and reboot.endpoint.name == "app_server"
    assert reboot.parameters[1].default is False and reboot.parameters[1].enum == (True, False)


@pytest.mark.skipif(not list(SEED_004.glob("004_*")), reason="the seed documents are not on this machine")
def test_the_plano_quickstart_is_the_example_from_plano_docs() -> None:
    # The mirrored page collapsed the example's indentation; the words must still match.
    page = next(SEED_004.glob("004_*")).read_text()
    block = page[page.index('<div class="highlight-yaml') :]
    block = block[: block.index("</pre>")].replace("\n|\n||\n", "\n")
    seed_lines = [line.strip() for line in html.unescape(re.sub(r"<[^>]+>", "", block)).splitlines()]
    example = (EXAMPLES / "plano_quickstart.yaml").read_text().split("version:", 1)[1]
    example_lines = [line.strip() for line in ("version:" + example).splitlines()]
    assert [line for line in example_lines if line] == [line for line in seed_lines if line]


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda path: path.name)
def test_every_example_loads_and_survives_a_json_round_trip(example: Path) -> None:
    policy = load_policy(example, env=WITH_OPENAI_KEY)

    assert Policy.model_validate_json(policy.model_dump_json()) == policy


def test_the_example_set_covers_plano_aliases_wildcards_local_models_and_agents() -> None:
    names = {path.name for path in EXAMPLES.glob("*.yaml")}

    assert {"plano_quickstart.yaml", "multi_provider.yaml", "local_models.yaml", "agents_filters.yaml"} <= names


def test_lead_style_config_with_a_mock_default_and_wildcards_loads_without_cloud_keys() -> None:
    policy = parse(
        """\
        version: v0.4.0
        model_providers:
          - model: mock/echo
            base_url: http://127.0.0.1:18100/v1
            provider_interface: openai
            default: true
            access_key: mock-key
          - model: openai/*
            access_key: $OPENAI_API_KEY
        """
    )

    assert policy.default_provider is not None and policy.default_provider.base_url == "http://127.0.0.1:18100/v1"
    assert [reason for _, reason in policy.provider_status({})] == [
        None,
        "environment variable OPENAI_API_KEY is not set",
    ]


# --- listeners ---------------------------------------------------------------------------


def test_list_and_legacy_listener_forms_normalize_to_the_same_listeners() -> None:
    legacy = parse(
        """\
        version: v0.1
        listeners:
          ingress_traffic: {address: 0.0.0.0, port: 10000, message_format: openai, timeout: 30s}
          egress_traffic: {port: 12000}
        """
    )
    listed = parse(
        """\
        version: v0.1
        listeners:
          - {type: prompt, name: ingress_traffic, address: 0.0.0.0, port: 10000, timeout: 30s}
          - {type: model, name: egress_traffic}
        """
    )

    assert legacy.listeners == listed.listeners
    assert [(listener.type, listener.port, listener.timeout) for listener in listed.listeners] == [
        ("prompt", 10000, 30.0),
        ("model", 12000, 300.0),
    ]


def test_without_listeners_there_is_one_model_listener_on_localhost_10000() -> None:
    policy = parse("version: v0.3.0\n")

    assert policy.listeners == (DEFAULT_LISTENER,)
    assert (DEFAULT_LISTENER.name, DEFAULT_LISTENER.type) == ("llm", "model")
    assert (DEFAULT_LISTENER.address, DEFAULT_LISTENER.port) == ("127.0.0.1", 10000)


def test_agent_listeners_and_their_plano_v03_filter_chain_normalize() -> None:
    policy = load_policy(EXAMPLES / "agents_filters.yaml", env=WITH_OPENAI_KEY)
    service = policy.listeners[0]

    assert (service.type, service.router, service.port) == ("agent", "plano_orchestrator_v1", 8001)
    assert [agent.input_filters for agent in service.agents] == [("input_guards", "query_rewriter"), ("input_guards",)]
    assert policy.filters[0].tool == "input_guards"  # defaults to the filter's id


# --- model providers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "provider_name", "model_name", "is_wildcard"),
    [
        ("openai/gpt-4o", "openai", "gpt-4o", False),
        ("openai/*", "openai", "*", True),
        ("vllm/meta-llama/Llama-3.1-8B", "vllm", "meta-llama/Llama-3.1-8B", False),
    ],
)
def test_model_is_provider_slash_name(model: str, provider_name: str, model_name: str, is_wildcard: bool) -> None:
    parsed = provider(f"version: v0.3.0\nmodel_providers:\n  - model: {model}\n    base_url: http://h:1/v1\n")

    assert (parsed.provider, parsed.model_name, parsed.is_wildcard) == (provider_name, model_name, is_wildcard)
    assert parsed.name == model  # name defaults to the model string


def test_a_wildcard_offers_every_model_of_its_provider_and_a_bare_name_matches_model_name() -> None:
    wildcard, named = parse(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/*\n  - model: groq/llama-3.3-70b\n"
    ).model_providers

    assert wildcard.offers("openai/gpt-5") and not wildcard.offers("groq/llama") and not wildcard.offers("gpt-5")
    assert named.offers("groq/llama-3.3-70b") and named.offers("llama-3.3-70b") and not named.offers("llama")


@pytest.mark.parametrize(
    ("provider_name", "base_url", "interface"),
    [
        ("openai", "https://api.openai.com/v1", "openai"),
        ("groq", "https://api.groq.com/openai/v1", "openai"),
        ("mistral", "https://api.mistral.ai/v1", "openai"),
        ("deepseek", "https://api.deepseek.com/v1", "openai"),
        ("xai", "https://api.x.ai/v1", "openai"),
        ("together", "https://api.together.xyz/v1", "openai"),
        ("anthropic", "https://api.anthropic.com/v1", "anthropic"),
        ("gemini", "https://generativelanguage.googleapis.com/v1beta", "gemini"),
        ("ollama", "http://127.0.0.1:11434/v1", "openai"),
    ],
)
def test_catalog_providers_need_no_base_url(provider_name: str, base_url: str, interface: str) -> None:
    parsed = provider(f"version: v0.3.0\nmodel_providers:\n  - model: {provider_name}/some-model\n")

    assert (parsed.base_url, parsed.provider_interface) == (base_url, interface)


def test_an_unknown_provider_with_a_base_url_speaks_openai_and_a_bare_host_gets_the_api_root() -> None:
    parsed = provider("version: v0.3.0\nmodel_providers:\n  - model: local/qwen\n    base_url: http://localhost:11434\n")

    assert (parsed.base_url, parsed.provider_interface) == ("http://localhost:11434/v1", "openai")


def test_plano_provider_interface_names_map_to_the_wire_api() -> None:
    parsed = provider(
        "version: v0.3.0\nmodel_providers:\n  - model: corp/claude\n    base_url: https://llm.corp/v1\n"
        "    provider_interface: claude\n"
    )

    assert parsed.provider_interface == "anthropic"


@pytest.mark.parametrize(
    ("access_key", "variable"),
    [("$OPENAI_API_KEY", "OPENAI_API_KEY"), ("${OPENAI_API_KEY}", "OPENAI_API_KEY"), ("sk-literal", None)],
)
def test_access_keys_stay_unresolved_and_name_their_variable(access_key: str, variable: str | None) -> None:
    parsed = provider(f"version: v0.3.0\nmodel_providers:\n  - model: openai/gpt-4o\n    access_key: '{access_key}'\n")

    assert (parsed.access_key, parsed.access_key_env) == (access_key, variable)
    assert parsed.resolved_access_key({"OPENAI_API_KEY": "sk-env"}) == ("sk-env" if variable else access_key)


def test_plano_legacy_llm_providers_key_is_accepted() -> None:
    policy = parse("version: v0.1\nllm_providers:\n  - model: openai/gpt-4o\n")

    assert [p.model for p in policy.model_providers] == ["openai/gpt-4o"]


def test_other_plano_legacy_spellings_are_accepted() -> None:
    policy = parse(
        """\
        version: v0.1
        state_storage_v1_responses: {type: memory}
        tracing:
          random_sampling: 100
          span_attribute_header_prefixes: [x-katanemo-]
        """
    )

    assert policy.state_storage is not None and policy.state_storage.type == "memory"
    assert policy.tracing is not None and policy.tracing.span_attributes is not None
    assert policy.tracing.span_attributes.header_prefixes == ("x-katanemo-",)


@pytest.mark.parametrize(("written", "seconds"), [("300s", 300), ("5m", 300), (90, 90), ("250ms", 0.25), ("1h", 3600)])
def test_timeouts_accept_plano_durations_and_numbers(written: object, seconds: float) -> None:
    parsed = provider(f"version: v0.3.0\nmodel_providers:\n  - model: openai/gpt-4o\n    timeout: {written}\n")

    assert parsed.timeout == pytest.approx(seconds)


def test_provider_extras_from_plano_schema_parse() -> None:
    parsed = provider(
        """\
        version: v0.3.0
        model_providers:
          - model: moonshotai/kimi
            http_host: api.kimi.com
            headers: {User-Agent: KimiCLI/1.3}
            passthrough_auth: true
            routing_preferences:
              - {name: code, description: writing code}
            capabilities: {context_window: 128000, supports_vision: true}
        """
    )

    assert parsed.headers == {"User-Agent": "KimiCLI/1.3"}
    assert parsed.routing_preferences[0].name == "code"
    assert parsed.capabilities["context_window"] == 128000
    assert parsed.unavailable_reason({}) is None


# --- the normalized model ----------------------------------------------------------------


def test_the_model_is_immutable_and_hashable() -> None:
    policy = load_policy(EXAMPLES / "multi_provider.yaml", env=WITH_OPENAI_KEY)

    with pytest.raises(pydantic.ValidationError):
        policy.version = "v9"  # type: ignore[misc]
    assert isinstance(policy.model_providers, tuple)
    with pytest.raises(TypeError):
        policy.model_providers[-1].headers["X-Team"] = "other"  # type: ignore[index]
    assert policy.model_providers[-1].headers == {"X-Team": "platform"}
    assert len({policy, load_policy(EXAMPLES / "multi_provider.yaml", env=WITH_OPENAI_KEY)}) == 1


def test_gateway_settings_default_to_localhost_ports_and_keep_defaults_for_unwritten_keys() -> None:
    assert parse("version: v0.3.0\n").gateway == GatewaySettings()
    defaults = GatewaySettings()
    assert (defaults.admin.port, defaults.envoy_admin.port, defaults.xds.port) == (9900, 9901, 18000)
    assert (defaults.extproc.workers, defaults.extproc.base_port, defaults.extproc.message_timeout) == ("auto", 18001, 10)
    assert (defaults.max_request_body_bytes, defaults.mock_provider.port) == (10485760, 18100)

    gateway = parse("version: v0.3.0\ngateway:\n  admin: {address: 0.0.0.0}\n  extproc: {workers: 3}\n").gateway
    assert (gateway.admin.address, gateway.admin.port) == ("0.0.0.0", 9900)
    assert gateway.extproc.ports() == range(18001, 18004)


def test_not_yet_enforced_names_what_the_file_uses_and_nothing_else() -> None:
    assert parse("version: v0.3.0\nmodel_providers:\n  - model: openai/gpt-4o\n").not_yet_enforced() == ()

    policy = load_policy(EXAMPLES / "agents_filters.yaml", env=WITH_OPENAI_KEY)
    assert policy.not_yet_enforced() == (
        "routing_preferences",
        "agents",
        "filters",
        "state_storage",
        "tracing",
        "listener 'travel_booking_service': type agent",
        "listener 'model_gateway': max_retries",
        "listener 'model_gateway': input_filters",
    )


def test_provider_status_disables_providers_whose_key_is_missing() -> None:
    policy = load_policy(EXAMPLES / "multi_provider.yaml", env=WITH_OPENAI_KEY)

    status = {p.name: reason for p, reason in policy.provider_status({"OPENAI_API_KEY": "sk", "GROQ_API_KEY": "gk"})}

    assert status["openai/*"] is None and status["groq/llama-3.3-70b-versatile"] is None
    assert status["anthropic/*"] == "environment variable ANTHROPIC_API_KEY is not set"
    assert status["litellm-gpt-4o"] is None  # passthrough_auth needs no key of its own


# --- every mistake, with its line --------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    document: str
    line: int
    column: int
    words: tuple[str, ...]


MISTAKES = {
    "yaml syntax": Mistake("version: v0.3.0\nmodel_providers: [\n  - model: x\n", 3, 3, ("invalid YAML",)),
    "unknown top-level key": Mistake("version: v0.3.0\nmodel_provider:\n  - model: openai/x\n", 2, 1, (
        "unknown key 'model_provider'", "did you mean 'model_providers'")),
    "unknown nested key, at the key": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/x\n    acces_key: k\n", 4, 5,
        ("model_providers[0]", "unknown key 'acces_key'", "access_key")),
    "wrong type, at the value": Mistake(
        "version: v0.3.0\nlisteners:\n  - type: model\n    name: llm\n    port: ten\n", 5, 11,
        ("listeners[0].port", "expected a valid integer", "got string 'ten'")),
    "wrong choice": Mistake(
        "version: v0.3.0\nlisteners:\n  - type: modle\n    name: llm\n", 3, 11,
        ("listeners[0].type", "'model', 'prompt' or 'agent'", "got string 'modle'")),
    "missing key": Mistake(
        "version: v0.3.0\nlisteners:\n  - type: agent\n    name: agents\n", 3, 5,
        ("listeners[0]", "missing required key 'port'")),
    "bad duration": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/x\n    timeout: soon\n", 4, 14,
        ("timeout", "expected a duration", "got string 'soon'")),
    "bad version": Mistake("version: 0.1\n", 1, 10, ("version", "v0.3.0", "got number 0.1")),
    "duplicate YAML key": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/a\n    model: openai/b\n", 4, 5,
        ("duplicate key 'model'", "first at line 3")),
    "unknown provider without base_url": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: opnai/gpt-4o\n", 3, 5,
        ("unknown provider 'opnai'", "base_url")),
    "catalog provider without a public endpoint": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: azure_openai/gpt-4o\n", 3, 5,
        ("azure_openai", "set base_url")),
    "base_url with a bad port": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: vllm/x\n    base_url: http://localhost:0/v1\n", 4, 15,
        ("base_url", "port number from 1 to 65535")),
    "model without provider": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: gpt-4o\n", 3, 12, ("expected provider/model", "'gpt-4o'")),
    "unknown legacy listener": Mistake(
        "version: v0.1\nlisteners:\n  ingress_traffic: {port: 10000}\n  sideways_traffic: {port: 1}\n", 4, 3,
        ("unknown listener 'sideways_traffic'",)),
    "unknown key in a legacy listener": Mistake(
        "version: v0.1\nlisteners:\n  egress_traffic:\n    port: 12000\n    name: out\n", 5, 5,
        ("listeners.egress_traffic", "unknown key 'name'")),
    "alias to nothing": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/gpt-4o\nmodel_aliases:\n  fast:\n    target: gpt-9\n",
        6, 13, ("alias 'fast'", "'gpt-9'", "no model provider offers")),
    "two providers with one name": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/gpt-4o\n  - model: groq/llama\n    name: openai/gpt-4o\n",
        5, 11, ("duplicate model provider name 'openai/gpt-4o'",)),
    "two defaults": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/a\n    default: true\n  - model: openai/b\n    default: true\n",
        6, 14, ("'openai/b' is marked default", "'openai/a' already is")),
    "default on a wildcard": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/*\n    default: true\n", 4, 14,
        ("wildcard", "cannot be the default")),
    "prompt target to an unknown endpoint": Mistake(
        "version: v0.3.0\nprompt_targets:\n  - name: t\n    description: d\n    endpoint:\n      name: nowhere\n"
        "      path: /x\n", 6, 13, ("endpoint 'nowhere'", "not in endpoints")),
    "agent listener naming an unknown agent": Mistake(
        "version: v0.3.0\nlisteners:\n  - type: agent\n    name: a\n    port: 8001\n    agents:\n"
        "      - id: ghost\n        description: d\n", 7, 13, ("listeners[0].agents[0].id", "no agent has id 'ghost'")),
    "filter chain naming an unknown filter": Mistake(
        "version: v0.3.0\nagents:\n  - {id: a1, url: 'http://localhost:1'}\nlisteners:\n  - type: agent\n    name: a\n"
        "    port: 8001\n    agents:\n      - id: a1\n        description: d\n        filter_chain: [guard]\n",
        11, 24, ("filter_chain[0]", "no agent or filter has id 'guard'")),
    "default provider without its key": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/gpt-4o\n    access_key: $OPENAI_API_KEY\n    default: true\n",
        4, 17, ("default provider 'openai/gpt-4o'", "environment variable OPENAI_API_KEY is not set")),
    "routing preference for an unoffered model": Mistake(
        "version: v0.4.0\nmodel_providers:\n  - model: openai/gpt-4o\nrouting_preferences:\n  - name: code\n"
        "    description: d\n    models: [openai/gpt-4o, groq/llama]\n", 7, 29, ("no model provider offers 'groq/llama'",)),
    "router naming an unknown provider": Mistake(
        "version: v0.3.0\nrouting:\n  llm_provider: arch-router\n", 3, 17, ("no model provider is named 'arch-router'",)),
    "two listeners with one name": Mistake(
        "version: v0.3.0\nlisteners:\n  - {type: model, name: llm, port: 10000}\n  - {type: model, name: llm, port: 10001}\n",
        4, 25, ("duplicate listener name 'llm'",)),
    "listener on the admin port": Mistake(
        "version: v0.3.0\nlisteners:\n  - {type: model, name: llm, port: 9900}\n", 3, 36,
        ("listener 'llm' wants port 9900", "gateway.admin")),
    "bedrock without a region": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: bedrock/amazon.nova-pro-v1:0\n", 3, 5,
        ("set region (for example us-east-1), or base_url",)),
    "bedrock with a malformed region": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: bedrock/amazon.nova-pro-v1:0\n    region: US East\n", 4, 13,
        ("expected an AWS region such as us-east-1",)),
    "bedrock behind a proxy without a region": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: bedrock/amazon.nova-pro-v1:0\n    base_url: https://proxy.example\n",
        3, 5, ("set region: Bedrock's signatures name it",)),
    "aws keys on another provider": Mistake(
        "version: v0.3.0\nmodel_providers:\n  - model: openai/gpt-4o\n    aws_access_key_id: AKID\n", 4, 24,
        ("aws_access_key_id is for provider_interface bedrock",)),
    "both spellings of a renamed key": Mistake(
        "version: v0.1\nmodel_providers: []\nllm_providers: []\n", 3, 1, ("legacy spelling of 'model_providers'",)),
}


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_each_mistake_is_reported_at_its_line_and_column_with_its_reason(mistake: Mistake) -> None:
    (issue,) = issues_in(mistake.document)

    assert (issue.file, issue.line, issue.column) == ("policy.yaml", mistake.line, mistake.column)
    for words in mistake.words:
        assert words in issue.reason


def test_a_missing_key_of_a_non_default_provider_only_disables_it() -> None:
    policy = parse("version: v0.3.0\nmodel_providers:\n  - model: openai/*\n    access_key: $OPENAI_API_KEY\n")

    assert policy.provider_status({})[0][1] == "environment variable OPENAI_API_KEY is not set"


def test_every_error_in_a_file_is_reported_in_file_order() -> None:
    issues = issues_in(
        """\
        version: v0.3.0
        listeners:
          - type: model
            name: llm
            port: ten
        model_providers:
          - model: openai/*
            default: true
          - model: openai/gpt-4o
            timout: 30s
        """
    )

    assert [(issue.line, issue.column) for issue in issues] == [(5, 11), (8, 14), (10, 5)]


def test_reference_errors_are_all_reported_too() -> None:
    issues = issues_in(
        """\
        version: v0.3.0
        model_providers:
          - model: openai/gpt-4o
        model_aliases:
          fast: {target: gpt-9}
          smart: {target: anthropic/claude}
        """
    )

    assert [issue.line for issue in issues] == [5, 6]


def test_the_error_message_lists_issues_as_file_line_column_reason() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy("version: v0.3.0\nlisteners: []\nmode: fast\n", source="my.yaml", env={})

    assert str(caught.value).splitlines() == [
        "my.yaml:2:12: listeners: expected at least one item (got list [])",
        "my.yaml:3:7: mode: expected 'llm' or 'prompt' (got string 'fast')",
    ]


def test_an_unreadable_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "absent.yaml", env={})

    (issue,) = caught.value.issues
    assert issue.file == str(tmp_path / "absent.yaml") and "cannot read" in issue.reason


# --- AWS Bedrock ----------------------------------------------------------------------------

BEDROCK_CLAUDE = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"


def test_bedrock_is_reached_by_region_and_signed_with_aws_own_variables_by_default() -> None:
    entry = provider(f"version: v0.3.0\nmodel_providers:\n  - model: {BEDROCK_CLAUDE}\n    region: eu-west-3\n")
    assert (entry.provider_interface, entry.base_url, entry.region) == ("bedrock", "https://bedrock-runtime.eu-west-3.amazonaws.com", "eu-west-3")
    assert entry.model_name == "anthropic.claude-3-5-sonnet-20240620-v1:0" and entry.signs_requests
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
    assert entry.resolved_aws_credentials(env) == ("AKID", "secret", "token")
    assert entry.unavailable_reason(env) is None
    assert entry.unavailable_reason({"AWS_ACCESS_KEY_ID": "AKID"}) == "environment variable AWS_SECRET_ACCESS_KEY is not set"


def test_bedrock_credentials_may_be_named_in_the_policy_and_a_region_read_from_base_url() -> None:
    entry = provider(
        "version: v0.3.0\nmodel_providers:\n  - model: amazon_bedrock/amazon.nova-pro-v1:0\n"
        "    base_url: https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com\n"
        "    aws_access_key_id: $TEAM_AKID\n    aws_secret_access_key: $TEAM_SECRET\n"
    )
    assert entry.region == "us-gov-west-1"
    assert entry.resolved_aws_credentials({"TEAM_AKID": "A", "TEAM_SECRET": "S", "AWS_SESSION_TOKEN": "t"}) == ("A", "S", "t")
    assert entry.unavailable_reason({}) == "environment variable TEAM_AKID is not set"


def test_a_bedrock_api_key_is_a_bearer_key_instead_of_a_signature() -> None:
    entry = provider(f"version: v0.3.0\nmodel_providers:\n  - model: {BEDROCK_CLAUDE}\n    region: us-east-1\n    access_key: $AWS_BEARER_TOKEN_BEDROCK\n")
    assert not entry.signs_requests
    assert entry.unavailable_reason({}) == "environment variable AWS_BEARER_TOKEN_BEDROCK is not set"


# --- every provider can be reached by every client ------------------------------------------


def test_a_provider_no_translator_serves_from_some_client_dialect_fails_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiplane import dialects

    document = "version: v0.3.0\nmodel_providers:\n  - model: openai/gpt-4o\n  - model: anthropic/claude-sonnet-4-5\n    provider_interface: claude\n"
    assert parse(document)  # every pair has a translator today
    monkeypatch.setattr(dialects, "TRANSLATORS", {pair: t for pair, t in dialects.TRANSLATORS.items() if pair != ("gemini", "anthropic")})
    (issue,) = issues_in(document)
    assert (issue.file, issue.line, issue.column) == ("policy.yaml", 5, 25)
    assert "provider 'anthropic/claude-sonnet-4-5' speaks anthropic, which no translator serves gemini clients from" in issue.reason
