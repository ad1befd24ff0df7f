"""Where a provider's `base_url` sends traffic: one place both planes agree on.

The control plane turns an `Upstream` into an Envoy cluster; the decision
server rewrites `:authority` and `:path` to match it. Keeping the naming and
path rules here means the two can never disagree on a cluster name.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# A trailing API-version segment (`/v1`, `/v1beta`, `/openai/v1`): the base URL
# already names the API version, so it is not repeated.
_VERSION_SEGMENT = re.compile(r"/v\d+[a-z0-9]*$")


@dataclass(frozen=True, slots=True)
class Upstream:
    scheme: str
    host: str
    port: int
    path_prefix: str  # "" or "/custom/prefix", never with a trailing slash

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def is_ip(self) -> bool:
        return is_ip_literal(self.host)

    @property
    def authority(self) -> str:
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return self.host
        return f"{self.host}:{self.port}"

    @property
    def cluster_name(self) -> str:
        return f"llm|{self.scheme}|{self.host}|{self.port}"

    def api_path(self, versioned_path: str) -> str:
        """The upstream path for an API path such as `/v1/chat/completions`.

        The base URL's path is a prefix; when it already ends in a version
        segment, that segment replaces the one in `versioned_path`.
        """
        if _VERSION_SEGMENT.search(self.path_prefix):
            _, _, rest = versioned_path.lstrip("/").partition("/")
            return f"{self.path_prefix}/{rest}"
        return f"{self.path_prefix}{versioned_path}"


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def parse_base_url(base_url: str) -> Upstream:
    """Parse a provider base URL; raises ValueError with a reason a user can act on."""
    parts = urlsplit(base_url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"base_url {base_url!r} must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"base_url {base_url!r} has no host")
    if parts.query or parts.fragment:
        raise ValueError(f"base_url {base_url!r} must not have a query or fragment")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise ValueError(f"base_url {base_url!r} has an invalid port") from exc
    return Upstream(scheme, parts.hostname.lower(), port, parts.path.rstrip("/"))


# The header the decision server sets and the provider routes match on; the
# route strips it before the request leaves Envoy.
ROUTE_HEADER = "x-aiplane-route"
