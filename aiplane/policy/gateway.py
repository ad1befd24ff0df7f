"""aiplane's own `gateway:` section: where its processes listen and how hard they work."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, model_validator

from .values import Frozen, Port, PositiveCount, Seconds, malformed


class Bind(Frozen):
    address: str = "127.0.0.1"
    port: Port


def _auto_or_count(value: Any) -> Any:
    if value == "auto" or (type(value) is int and value >= 1):
        return value
    raise malformed("expected 'auto' (one per core) or a number >= 1")


# How many of something run in parallel: `auto` is one per core.
AutoOrCount = Annotated[int | Literal["auto"], BeforeValidator(_auto_or_count)]


class ExtProcSettings(Frozen):
    """The ext_proc decision workers; worker i listens on base_port + i."""

    workers: AutoOrCount = "auto"
    base_port: Port = 18001
    message_timeout: Seconds = 10.0

    def worker_count(self) -> int:
        """`auto` is one worker per core."""
        if self.workers == "auto":
            return os.cpu_count() or 1
        return self.workers

    def ports(self) -> range:
        return range(self.base_port, self.base_port + self.worker_count())


class MockProviderSettings(Frozen):
    port: Port = 18100


class GatewaySettings(Frozen):
    admin: Bind = Bind(port=9900)
    envoy_admin: Bind = Bind(port=9901)
    xds: Bind = Bind(port=18000)
    extproc: ExtProcSettings = ExtProcSettings()
    envoy_concurrency: AutoOrCount = "auto"  # Envoy worker threads (its --concurrency)
    max_request_body_bytes: PositiveCount = 10 * 1024 * 1024
    mock_provider: MockProviderSettings = MockProviderSettings()

    @model_validator(mode="before")
    @classmethod
    def _complete_partial_binds(cls, data: Any) -> Any:
        # `admin: {address: 0.0.0.0}` keeps the default port rather than demanding one.
        if not isinstance(data, Mapping):
            return data
        completed = dict(data)
        for name, field in cls.model_fields.items():
            if isinstance(field.default, Bind) and isinstance(data.get(name), Mapping):
                completed[name] = {**field.default.model_dump(), **data[name]}
        return completed
