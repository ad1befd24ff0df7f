"""An immutable, versioned set of resources: what one group of nodes should run.

Resources are packed into `Any` once, here, so streams only copy ready messages. Versions are
hashes of the content: a restarted control plane serves the same config under the same version,
and never older config under a version Envoy has not seen (Envoy applies any new version string).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from google.protobuf import any_pb2
from google.protobuf.message import Message

# A resource as the caller gives it: an Envoy message (named by its `name`, or `cluster_name` for
# a ClusterLoadAssignment), or a (name, Any) pair for a resource the caller packed itself, such
# as the policy. Nested `Any`s (typed_config) should be packed with `deterministic=True` too,
# or their map fields may serialize differently across restarts and change the version.
ResourceInput = Message | tuple[str, any_pb2.Any]


def _digest(*chunks: bytes) -> str:
    hasher = hashlib.sha256()
    for chunk in chunks:
        # Length-prefixed so that ("ab", "c") and ("a", "bc") hash differently.
        hasher.update(len(chunk).to_bytes(8, "big"))
        hasher.update(chunk)
    return hasher.hexdigest()[:16]


def _version_of(resource_versions: Mapping[str, str]) -> str:
    return _digest(*(part.encode() for name in sorted(resource_versions) for part in (name, resource_versions[name])))


@dataclass(frozen=True)
class Resources:
    """The resources of one type by name, each with its own version, and the version of the set."""

    items: Mapping[str, any_pb2.Any]
    versions: Mapping[str, str]
    version: str

    @classmethod
    def of(cls, items: Mapping[str, any_pb2.Any]) -> Resources:
        versions = {name: _digest(packed.value) for name, packed in items.items()}
        return cls(MappingProxyType(dict(items)), MappingProxyType(versions), _version_of(versions))

    def only(self, names: Iterable[str]) -> Resources:
        """The named subset (names not present are skipped), still under the version of the whole set."""
        kept = [name for name in names if name in self.items]
        return Resources(
            MappingProxyType({name: self.items[name] for name in kept}),
            MappingProxyType({name: self.versions[name] for name in kept}),
            self.version,
        )


EMPTY = Resources.of({})


def _resource_name(message: Message) -> str:
    fields = message.DESCRIPTOR.fields_by_name
    field = "name" if "name" in fields else "cluster_name"
    if field not in fields:
        raise ValueError(f"{message.DESCRIPTOR.full_name} has no name field: pass it as a (name, Any) pair")
    return getattr(message, field)


def _pack(type_url: str, resource: ResourceInput) -> tuple[str, any_pb2.Any]:
    if isinstance(resource, tuple):
        name, packed = resource
    else:
        name, packed = _resource_name(resource), any_pb2.Any()
        packed.Pack(resource, deterministic=True)
    if not name:
        raise ValueError(f"a {type_url} resource has no name")
    if packed.type_url != type_url:
        raise ValueError(f"resource {name!r} is a {packed.type_url}, listed under {type_url}")
    return name, packed


@dataclass(frozen=True)
class Snapshot:
    """Resources by type URL. A type the snapshot does not list has no resources."""

    by_type: Mapping[str, Resources]

    @classmethod
    def build(cls, resources: Mapping[str, Iterable[ResourceInput]]) -> Snapshot:
        by_type: dict[str, Resources] = {}
        for type_url, inputs in resources.items():
            items: dict[str, any_pb2.Any] = {}
            for resource in inputs:
                name, packed = _pack(type_url, resource)
                if name in items:
                    raise ValueError(f"two {type_url} resources are named {name!r}")
                items[name] = packed
            by_type[type_url] = Resources.of(items)
        return cls(MappingProxyType(by_type))

    def resources(self, type_url: str) -> Resources:
        return self.by_type.get(type_url, EMPTY)

    def version(self, type_url: str) -> str:
        return self.resources(type_url).version
