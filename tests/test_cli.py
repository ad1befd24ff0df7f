"""The `aiplane` command as a user types it: exit codes 0 (success), 1 (invalid input), 2 (usage)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from harness import AIPLANE

from aiplane.envoy_binary import envoy_path

REPO = Path(__file__).resolve().parent.parent


def aiplane(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([*AIPLANE, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_validate_accepts_the_default_policy():
    done = aiplane("validate", "config/aiplane.yaml")
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout


def test_validate_reports_every_error_with_file_line_and_reason(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "version: v0.2.0\n"
        "model_providers:\n"
        "  - model: openai/gpt-4o\n"
        "    access_key: $OPENAI_API_KEY\n"
        "    default: true\n"
        "    colour: blue\n"
        "  - model: groq/*\n"
        "    timeout: soon\n"
    )
    done = aiplane("validate", str(broken))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert any(line.startswith(f"{broken}:6:") and "colour" in line for line in lines), done.stderr
    assert any(line.startswith(f"{broken}:8:") and "timeout" in line for line in lines), done.stderr


def test_validate_reports_a_dangling_alias_and_a_missing_default_key(tmp_path):
    broken = tmp_path / "dangling.yaml"
    broken.write_text(
        "version: v0.2.0\n"
        "model_providers:\n"
        "  - model: openai/gpt-4o\n"
        "    access_key: $AIPLANE_TEST_NEVER_SET\n"
        "    default: true\n"
        "model_aliases:\n"
        "  fast: {target: nobody/offers-this}\n"
    )
    done = aiplane("validate", str(broken))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert any(line.startswith(f"{broken}:7:") and "nobody/offers-this" in line for line in lines), done.stderr
    assert any(f"{broken}:4:" in line and "AIPLANE_TEST_NEVER_SET" in line for line in lines), done.stderr


def test_validate_reports_a_yaml_syntax_error_with_its_line(tmp_path):
    broken = tmp_path / "syntax.yaml"
    broken.write_text("version: v0.2.0\nmodel_providers:\n  - model: [unclosed\n")
    done = aiplane("validate", str(broken))
    assert done.returncode == 1
    assert f"{broken}:" in done.stderr


def test_validate_reports_a_missing_file():
    done = aiplane("validate", "/nonexistent/aiplane.yaml")
    assert done.returncode == 1 and "/nonexistent/aiplane.yaml" in done.stderr


def test_usage_errors_exit_2():
    assert aiplane("validate").returncode == 2
    assert aiplane("no-such-command").returncode == 2
    assert aiplane("bootstrap", "--xds", "no-port").returncode == 2


@pytest.mark.parametrize("delta", [False, True])
def test_bootstrap_passes_envoys_own_validation(tmp_path, delta):
    out = tmp_path / "bootstrap.json"
    args = ["bootstrap", "-c", "config/aiplane.yaml", "-o", str(out), "--node-id", "edge-7", "--xds", "127.0.0.1:18123"]
    done = aiplane(*args, *(["--delta"] if delta else []))
    assert done.returncode == 0, done.stderr
    bootstrap = json.loads(out.read_text())
    assert bootstrap["node"]["id"] == "edge-7"
    assert bootstrap["dynamic_resources"]["ads_config"]["api_type"] == ("DELTA_GRPC" if delta else "GRPC")
    validated = subprocess.run(
        [str(envoy_path()), "--mode", "validate", "-c", str(out)], capture_output=True, text=True, timeout=60
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
