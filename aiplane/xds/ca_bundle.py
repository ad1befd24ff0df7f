"""The system CA bundle Envoy verifies providers' certificates against."""

from __future__ import annotations

import ssl
from pathlib import Path

# Debian/Ubuntu, RHEL/Fedora, Alpine/macOS, OpenSUSE.
_KNOWN_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
)


def system_ca_bundle() -> str:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, *_KNOWN_BUNDLES):
        if candidate and Path(candidate).is_file():
            return candidate
    raise FileNotFoundError(
        "no system CA bundle found (looked in " + ", ".join(_KNOWN_BUNDLES) + "); install ca-certificates"
    )
