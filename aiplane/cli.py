"""The `aiplane` command. Exit codes: 0 success, 1 invalid input, 2 usage."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DEFAULT_CONFIG = Path("config/aiplane.yaml")
EMBEDDED_CONFIG = Path(__file__).with_name("default_config.yaml")


def _config_path(value: str | None) -> Path:
    if value:
        return Path(value)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else EMBEDDED_CONFIG


def _load(path: Path):
    from aiplane.policy import PolicyError, load_policy  # noqa: PLC0415 (fast `--help`)

    try:
        return load_policy(path)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return None
    except OSError as exc:
        print(f"{path}: cannot read the policy file: {exc.strerror}", file=sys.stderr)
        return None


def cmd_validate(args: argparse.Namespace) -> int:
    policy = _load(Path(args.file))
    if policy is None:
        return 1
    print(f"{args.file}: valid")
    for section in policy.not_yet_enforced():
        print(f"{args.file}: note: `{section}` is parsed but not yet enforced")
    return 0


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from aiplane.xds.bootstrap import render_bootstrap  # noqa: PLC0415

    policy = _load(_config_path(args.config))
    if policy is None:
        return 1
    host, port = policy.gateway.xds.address, policy.gateway.xds.port
    if args.xds:
        host, _, port_text = args.xds.rpartition(":")
        if not host or not port_text.isdigit():
            print(f"aiplane: --xds must be HOST:PORT, not {args.xds!r}", file=sys.stderr)
            return 2
        port = int(port_text)
    bootstrap = render_bootstrap(
        node_id=args.node_id,
        node_cluster=args.node_cluster,
        xds_host=host,
        xds_port=port,
        admin_host=policy.gateway.envoy_admin.address,
        admin_port=policy.gateway.envoy_admin.port,
        delta=args.delta,
    )
    text = json.dumps(bootstrap, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    # The supervisor forks children while gRPC threads run; no child uses the parent's gRPC.
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    import uvloop  # noqa: PLC0415

    from aiplane import logs  # noqa: PLC0415
    from aiplane.supervisor import Supervisor  # noqa: PLC0415

    logs.configure("aiplane")
    path = _config_path(args.config)
    policy = _load(path)
    if policy is None:
        return 1
    return uvloop.run(Supervisor(policy, path, os.environ, delta=args.delta).run())


def cmd_mock_provider(args: argparse.Namespace) -> int:
    from aiplane.mock_provider import run_mock_provider  # noqa: PLC0415

    run_mock_provider(args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiplane", description="An Envoy-native AI gateway.")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the control plane, ext_proc workers and Envoy")
    up.add_argument("-c", "--config", help=f"policy file (default: {DEFAULT_CONFIG}, else the embedded default)")
    up.add_argument("--delta", action="store_true", help="Envoy uses delta xDS instead of state-of-the-world")
    up.set_defaults(run=cmd_up)

    validate = commands.add_parser("validate", help="check a policy file; exit 1 with file:line: reason")
    validate.add_argument("file")
    validate.set_defaults(run=cmd_validate)

    bootstrap = commands.add_parser("bootstrap", help="write an Envoy bootstrap that points at aiplane's xDS")
    bootstrap.add_argument("-c", "--config", help="policy file (for the xDS and admin addresses)")
    bootstrap.add_argument("-o", "--output", help="write here instead of stdout")
    bootstrap.add_argument("--node-id", default="aiplane-envoy-0")
    bootstrap.add_argument("--node-cluster", default="aiplane-gateway", help="the node group whose snapshot it gets")
    bootstrap.add_argument("--xds", help="control plane HOST:PORT (default: from the policy)")
    bootstrap.add_argument("--delta", action="store_true", help="use delta xDS")
    bootstrap.set_defaults(run=cmd_bootstrap)

    mock = commands.add_parser("mock-provider", help="a local OpenAI-compatible provider for tests and demos")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=18100)
    mock.set_defaults(run=cmd_mock_provider)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    sys.exit(args.run(args))
