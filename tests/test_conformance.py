"""The conformance table in docs/conformance.md, generated from the translators themselves.

For every (client, provider) pair and feature, a request using the feature in the client's
dialect goes through the pair's translator: it is either carried (and the pair's own test
file proves how) or refused with a 400 naming the field. The test fails when the committed
table differs from what the code does; `AIPLANE_WRITE_CONFORMANCE=1 pytest tests/test_conformance.py`
rewrites it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aiplane.dialects import ANTHROPIC, BEDROCK, EMBEDDING_TRANSLATORS, GEMINI, OPENAI, PROVIDER_APIS, TRANSLATORS
from aiplane.translate import UnsupportedFeature

TABLE = Path(__file__).resolve().parent.parent / "docs" / "conformance.md"
CLIENTS = (OPENAI, ANTHROPIC, GEMINI)
PROVIDERS = (OPENAI, ANTHROPIC, GEMINI, BEDROCK)
NAMES = {
    OPENAI: "OpenAI Chat Completions",
    ANTHROPIC: "Anthropic Messages",
    GEMINI: "Gemini generateContent",
    BEDROCK: "Bedrock Converse",
}
EMBEDDING_NAMES = {OPENAI: "OpenAI Embeddings", ANTHROPIC: "Anthropic", GEMINI: "Gemini batchEmbedContents", BEDROCK: "Bedrock Titan"}

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
_OPENAI_TOOL = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}
_OPENAI_CALL = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}
_ANTHROPIC_TOOL = {"name": "weather", "input_schema": {"type": "object"}}
_GEMINI_TOOL = {"functionDeclarations": [{"name": "weather", "parameters": {"type": "OBJECT"}}]}
_SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}


def _openai(**extra: Any) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": "Hello"}], **extra}


def _anthropic(**extra: Any) -> dict:
    return {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "Hello"}], **extra}


def _gemini(**extra: Any) -> dict:
    # The decision server adds `model` and `stream` from the URL.
    return {"model": "m", "stream": False, "contents": [{"role": "user", "parts": [{"text": "Hello"}]}], **extra}


# feature -> the client's request using it, per client dialect (None: the dialect has no such feature)
FEATURES: dict[str, dict[str, dict | None]] = {
    "text": {OPENAI: _openai(), ANTHROPIC: _anthropic(), GEMINI: _gemini()},
    "system prompt": {
        OPENAI: _openai(messages=[{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}]),
        ANTHROPIC: _anthropic(system="Be brief"),
        GEMINI: _gemini(systemInstruction={"parts": [{"text": "Be brief"}]}),
    },
    "multi-turn": {
        OPENAI: _openai(messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again"}]),
        ANTHROPIC: _anthropic(messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Again"}]),
        GEMINI: _gemini(contents=[{"role": "user", "parts": [{"text": "Hi"}]}, {"role": "model", "parts": [{"text": "Hello"}]}, {"role": "user", "parts": [{"text": "Again"}]}]),
    },
    "images (base64)": {
        OPENAI: _openai(messages=[{"role": "user", "content": [{"type": "text", "text": "What?"}, {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]}]),
        ANTHROPIC: _anthropic(messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}, {"type": "text", "text": "What?"}]}]),
        GEMINI: _gemini(contents=[{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}, {"text": "What?"}]}]),
    },
    "tools and tool choice": {
        OPENAI: _openai(tools=[_OPENAI_TOOL], tool_choice="required"),
        ANTHROPIC: _anthropic(tools=[_ANTHROPIC_TOOL], tool_choice={"type": "any"}),
        GEMINI: _gemini(tools=[_GEMINI_TOOL], toolConfig={"functionCallingConfig": {"mode": "ANY"}}),
    },
    "tool calls and results fed back": {
        OPENAI: _openai(tools=[_OPENAI_TOOL], messages=[{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": None, "tool_calls": [_OPENAI_CALL]}, {"role": "tool", "tool_call_id": "call_1", "content": "18C"}]),
        ANTHROPIC: _anthropic(tools=[_ANTHROPIC_TOOL], messages=[{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}}]}, {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"}]}]),
        GEMINI: _gemini(tools=[_GEMINI_TOOL], contents=[{"role": "user", "parts": [{"text": "Weather?"}]}, {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Paris"}}}]}, {"role": "user", "parts": [{"functionResponse": {"name": "weather", "response": {"output": "18C"}}}]}]),
    },
    "stop sequences": {
        OPENAI: _openai(stop=["END"]),
        ANTHROPIC: _anthropic(stop_sequences=["END"]),
        GEMINI: _gemini(generationConfig={"stopSequences": ["END"]}),
    },
    "temperature, top_p, max tokens": {
        OPENAI: _openai(temperature=0.5, top_p=0.9, max_tokens=100),
        ANTHROPIC: _anthropic(temperature=0.5, top_p=0.9),
        GEMINI: _gemini(generationConfig={"temperature": 0.5, "topP": 0.9, "maxOutputTokens": 100}),
    },
    "JSON mode": {
        OPENAI: _openai(response_format={"type": "json_object"}, messages=[{"role": "user", "content": "Answer in JSON"}]),
        ANTHROPIC: None,
        GEMINI: _gemini(generationConfig={"responseMimeType": "application/json"}),
    },
    "response schema": {
        OPENAI: _openai(response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": _SCHEMA}}),
        ANTHROPIC: None,
        GEMINI: _gemini(generationConfig={"responseMimeType": "application/json", "responseJsonSchema": _SCHEMA}),
    },
    "reasoning / thinking": {
        OPENAI: _openai(reasoning_effort="medium"),
        ANTHROPIC: _anthropic(max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2048}),
        GEMINI: _gemini(generationConfig={"thinkingConfig": {"thinkingBudget": 2048}}),
    },
    "several candidates (n > 1)": {
        OPENAI: _openai(n=2),
        ANTHROPIC: None,
        GEMINI: _gemini(generationConfig={"candidateCount": 2}),
    },
    "streaming with usage": {
        OPENAI: _openai(stream=True, stream_options={"include_usage": True}),
        ANTHROPIC: _anthropic(stream=True),
        GEMINI: _gemini(stream=True),
    },
}


# OpenAI Embeddings features, as a client uses them.
EMBEDDING_FEATURES: dict[str, dict] = {
    "one text": {"model": "m", "input": "Hello"},
    "several texts": {"model": "m", "input": ["Hello", "world"]},
    "dimensions": {"model": "m", "input": "Hello", "dimensions": 256},
    "base64 encoding (the SDK's default)": {"model": "m", "input": "Hello", "encoding_format": "base64"},
    "token arrays": {"model": "m", "input": [[9906, 1917]]},
}


def embedding_cell(provider: str, request: dict) -> str:
    if PROVIDER_APIS[provider].embeddings_path is None:
        return "no embeddings API: 400"
    translator = EMBEDDING_TRANSLATORS.get(provider)
    if translator is None:
        return "as is"
    try:
        translator.request(request, "upstream-model")
    except UnsupportedFeature as refused:
        return f"400 (`{refused.param}`)"
    return "yes"


def cell(client: str, provider: str, request: dict | None) -> str:
    if request is None:
        return "—"
    if client == provider:
        return "as is"
    translator = TRANSLATORS.get((client, provider))
    if translator is None:
        return "no translator yet"
    try:
        translator.request(request, "upstream-model")
        if request.get("stream"):
            translator.stream(request)
    except UnsupportedFeature as refused:
        return f"400 (`{refused.param}`)"
    return "yes"


def generate() -> str:
    lines = [
        "# Conformance",
        "",
        "Generated by `tests/test_conformance.py` from the translators in `aiplane/translate/`; do not edit.",
        "Each cell sends a request using the feature, in the client's dialect, through the pair's translator:",
        "**yes**: carried (the pair's test file shows how, on golden fixtures and through the real SDKs);",
        "**400**: refused with a 400 in the client's dialect naming the field; **as is**: same dialect, untranslated;",
        "**—**: the client's API has no such feature. Responses, stop reasons, usage, streams and errors are",
        "translated for every pair that has a translator.",
        "",
    ]
    for client in CLIENTS:
        lines += [f"## {NAMES[client]} clients", "", "| feature | " + " | ".join(f"→ {NAMES[p]}" for p in PROVIDERS) + " |"]
        lines.append("|---|" + "---|" * len(PROVIDERS))
        for feature, requests in FEATURES.items():
            cells = [cell(client, provider, requests[client]) for provider in PROVIDERS]
            lines.append(f"| {feature} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "## OpenAI Embeddings clients",
        "",
        "Azure OpenAI takes them as OpenAI does, on its deployment path.",
        "",
        "| feature | " + " | ".join(f"→ {EMBEDDING_NAMES[p]}" for p in PROVIDERS) + " |",
        "|---|" + "---|" * len(PROVIDERS),
    ]
    for feature, request in EMBEDDING_FEATURES.items():
        lines.append(f"| {feature} | " + " | ".join(embedding_cell(p, request) for p in PROVIDERS) + " |")
    counted = {p: "as is" if PROVIDER_APIS[p].count_tokens_path else "counted by the gateway" for p in PROVIDERS}
    lines += [
        "",
        "## Anthropic token counting (`POST /v1/messages/count_tokens`)",
        "",
        "A provider without a counting endpoint is answered by the gateway itself, with tiktoken's",
        "cl100k_base (an estimate: each model family has its own tokenizer).",
        "",
        "| → " + " | → ".join(NAMES[p] for p in PROVIDERS) + " |",
        "|" + "---|" * len(PROVIDERS),
        "| " + " | ".join(counted[p] for p in PROVIDERS) + " |",
        "",
    ]
    return "\n".join(lines)


def test_the_conformance_table_is_what_the_translators_do():
    generated = generate()
    if os.environ.get("AIPLANE_WRITE_CONFORMANCE"):
        TABLE.parent.mkdir(exist_ok=True)
        TABLE.write_text(generated)
    assert TABLE.read_text() == generated, "run AIPLANE_WRITE_CONFORMANCE=1 pytest tests/test_conformance.py"

