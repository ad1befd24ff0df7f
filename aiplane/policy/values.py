"""Value types the policy models share: the frozen base model, read-only maps, durations,
ports, URLs and environment-variable references."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WrapSerializer,
)
from pydantic_core import PydanticCustomError


class Frozen(BaseModel):
    """Base of every policy model: immutable, and strict about unknown keys.

    Defaults are validated too, so a `{}` default becomes a read-only map like any other.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


# Error kinds the loader tells apart: a malformed value is reported with what was found,
# a rule about the policy's meaning is reported as it stands, and an error that only
# follows from another one is not reported at all.
MALFORMED = "malformed_value"
VIOLATION = "policy_violation"
CONSEQUENCE = "consequence_of_another_error"


def malformed(message: str) -> PydanticCustomError:
    return PydanticCustomError(MALFORMED, "{reason}", {"reason": message})


def violation(message: str) -> PydanticCustomError:
    return PydanticCustomError(VIOLATION, "{reason}", {"reason": message})


def consequence() -> PydanticCustomError:
    return PydanticCustomError(CONSEQUENCE, "follows from another error")


K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(Mapping[K, V]):
    """A read-only, hashable dict, so that frozen models holding one stay hashable."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[K, V]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenDict({self._items!r})"


# A mapping that cannot be changed after validation; serialized as a plain object.
FrozenMap = Annotated[
    Mapping[K, V],
    AfterValidator(FrozenDict),
    WrapSerializer(lambda value, serialize: serialize(dict(value))),
]


def non_empty(value: tuple[Any, ...]) -> tuple[Any, ...]:
    # Unlike Field(min_length=1), not reported again when the items themselves are invalid.
    if not value:
        raise malformed("expected at least one item")
    return value


Port = Annotated[int, Field(strict=True, ge=1, le=65535)]
Count = Annotated[int, Field(strict=True, ge=0)]
PositiveCount = Annotated[int, Field(strict=True, ge=1)]

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?")
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def _to_seconds(value: Any) -> Any:
    # bool is an int to Python, but `timeout: true` is a mistake, not one second.
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf:
        return float(value)
    if isinstance(value, str) and (match := _DURATION.fullmatch(value.strip())):
        return float(match[1]) * _SECONDS_PER_UNIT[match[2]]
    raise malformed("expected a duration such as 300s, 5m, 250ms or a number of seconds")


# A duration in seconds; accepts Plano's "300s" / "0.005s" strings, "5m", "250ms" and plain numbers.
Seconds = Annotated[float, BeforeValidator(_to_seconds)]


def _scalar(value: Any) -> Any:
    if isinstance(value, (str, int, float)):
        return value
    raise malformed("expected a string, number or boolean")


# A YAML scalar kept with its own type (prompt target parameter defaults and enums).
Scalar = Annotated[StrictBool | StrictInt | float | str, BeforeValidator(_scalar)]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = 0
    if port is not None and not 1 <= port <= 65535:
        raise malformed("expected a port number from 1 to 65535 in the URL")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise malformed("expected an http:// or https:// URL with a host and no query or fragment")
    return value.rstrip("/")


# An http(s) URL, kept as written apart from a trailing slash.
HttpUrlText = Annotated[str, AfterValidator(_http_url)]

_HOST_PORT = re.compile(r"[A-Za-z0-9._-]+(:\d{1,5})?")


def _host_port(value: str) -> str:
    if not _HOST_PORT.fullmatch(value):
        raise malformed("expected host or host:port")
    return value


HostPort = Annotated[str, AfterValidator(_host_port)]

_ENV_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def env_reference(value: str | None) -> str | None:
    """The variable named by `$VAR` or `${VAR}`, or None when `value` is a literal."""
    if value is None or not (match := _ENV_REFERENCE.fullmatch(value)):
        return None
    return match[1] or match[2]
