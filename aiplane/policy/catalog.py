"""Providers aiplane knows by name: where they live, which API they speak, where their key
conventionally is. `model: groq/llama-3.3-70b-versatile` needs no base_url because of this table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

# The wire APIs aiplane calls; Azure OpenAI speaks OpenAI's bodies on its own paths.
Interface = Literal["openai", "anthropic", "gemini", "azure_openai", "bedrock"]


@dataclass(frozen=True)
class KnownProvider:
    base_url: str | None  # None: self-hosted or per-account, so the policy must give base_url
    interface: Interface
    env_var: str | None  # where people conventionally keep its key; None when it needs none


KNOWN_PROVIDERS: Mapping[str, KnownProvider] = MappingProxyType(
    {
        "openai": KnownProvider("https://api.openai.com/v1", "openai", "OPENAI_API_KEY"),
        "anthropic": KnownProvider("https://api.anthropic.com/v1", "anthropic", "ANTHROPIC_API_KEY"),
        "gemini": KnownProvider("https://generativelanguage.googleapis.com/v1beta", "gemini", "GEMINI_API_KEY"),
        "groq": KnownProvider("https://api.groq.com/openai/v1", "openai", "GROQ_API_KEY"),
        "mistral": KnownProvider("https://api.mistral.ai/v1", "openai", "MISTRAL_API_KEY"),
        "deepseek": KnownProvider("https://api.deepseek.com/v1", "openai", "DEEPSEEK_API_KEY"),
        "xai": KnownProvider("https://api.x.ai/v1", "openai", "XAI_API_KEY"),
        "together": KnownProvider("https://api.together.xyz/v1", "openai", "TOGETHER_API_KEY"),
        # Plano's spelling of the same provider.
        "together_ai": KnownProvider("https://api.together.xyz/v1", "openai", "TOGETHER_API_KEY"),
        "moonshotai": KnownProvider("https://api.moonshot.ai/v1", "openai", "MOONSHOT_API_KEY"),
        "zhipu": KnownProvider("https://open.bigmodel.cn/api/paas/v4", "openai", "ZHIPU_API_KEY"),
        "openrouter": KnownProvider("https://openrouter.ai/api/v1", "openai", "OPENROUTER_API_KEY"),
        "ollama": KnownProvider("http://127.0.0.1:11434/v1", "openai", None),
        "azure_openai": KnownProvider(None, "azure_openai", "AZURE_OPENAI_API_KEY"),
        # Its endpoint is per region: `region` names it (see ModelProvider).
        "bedrock": KnownProvider(None, "bedrock", None),
        "amazon_bedrock": KnownProvider(None, "bedrock", None),
        "qwen": KnownProvider(None, "openai", "DASHSCOPE_API_KEY"),
    }
)

# Plano's `provider_interface` values, by the wire API each one speaks. Plano names most
# OpenAI-compatible vendors separately; aiplane needs only the dialect.
INTERFACE_NAMES: Mapping[str, Interface] = MappingProxyType(
    {
        "openai": "openai",
        "anthropic": "anthropic",
        "claude": "anthropic",
        "gemini": "gemini",
        "azure_openai": "azure_openai",
        "bedrock": "bedrock",
        "amazon_bedrock": "bedrock",
        **{
            name: "openai"
            for name in (
                "arch",
                "plano",
                "deepseek",
                "groq",
                "mistral",
                "xiaomi",
                "chatgpt",
                "digitalocean",
                "vercel",
                "openrouter",
                "moonshotai",
            )
        },
    }
)

# The API root under a bare host (Plano writes `base_url: http://localhost:11434`).
DEFAULT_API_PATH: Mapping[Interface, str] = MappingProxyType(
    {"openai": "/v1", "anthropic": "/v1", "gemini": "/v1beta", "azure_openai": "", "bedrock": ""}
)
