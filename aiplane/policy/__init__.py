"""The policy file: Plano's configuration vocabulary plus aiplane's `gateway:` section.

policy = load_policy("config/aiplane.yaml")      # raises PolicyError with every issue
policy.model_providers, policy.listeners, policy.gateway
"""

from .catalog import KNOWN_PROVIDERS, Interface, KnownProvider
from .errors import PolicyError, PolicyIssue
from .gateway import Bind, ExtProcSettings, GatewaySettings, MockProviderSettings
from .loader import load_policy, parse_policy
from .model import DEFAULT_LISTENER, Listener, ListenerAgent, ModelAlias, ModelProvider, Policy

__all__ = [
    "DEFAULT_LISTENER",
    "KNOWN_PROVIDERS",
    "Bind",
    "ExtProcSettings",
    "GatewaySettings",
    "Interface",
    "KnownProvider",
    "Listener",
    "ListenerAgent",
    "MockProviderSettings",
    "ModelAlias",
    "ModelProvider",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "load_policy",
    "parse_policy",
]
