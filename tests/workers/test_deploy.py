"""deploy/compose.yaml is valid: `docker compose config` when available, else a schema check."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from listening.workers.queues import parse_queues

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
TOP_KEYS = {"name", "services", "volumes", "networks", "configs", "secrets"}
SERVICE_KEYS = {
    "build",
    "image",
    "restart",
    "environment",
    "volumes",
    "depends_on",
    "command",
    "deploy",
    "ports",
    "healthcheck",
    "profiles",
}


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return {k: v for k, v in data.items() if not k.startswith("x-")}


def _docker_compose() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_deploy_compose_file_is_valid() -> None:
    tool = _docker_compose()
    if tool is not None:
        done = subprocess.run(
            [*tool, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    data = _compose()
    assert set(data) <= TOP_KEYS, set(data) - TOP_KEYS
    services = data["services"]
    volumes = set(data.get("volumes") or {})
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, (name, set(service) - SERVICE_KEYS)
        assert "image" in service or "build" in service, name
        for dep in service.get("depends_on") or {}:
            assert dep in services, (name, dep)
        for volume in service.get("volumes") or []:
            source = str(volume).split(":")[0]
            assert source.startswith(("/", ".")) or source in volumes, (name, volume)
        if "deploy" in service:
            assert int(service["deploy"]["replicas"]) >= 1


def test_deploy_compose_runs_one_scheduler_and_workers_for_every_queue() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "scheduler", "dashboard", "migrate"} <= set(services)
    assert services["scheduler"]["deploy"]["replicas"] == 1
    consumed: set[str] = set()
    for name, service in services.items():
        command = service.get("command") or []
        if isinstance(command, str):
            command = shlex.split(command)
        if command[:1] == ["worker"]:
            queues = command[command.index("--queues") + 1]
            consumed.update(parse_queues(queues))  # an unknown queue name raises
            env = service["environment"]
            assert env["LISTENING_DATABASE_URL"].startswith("postgresql"), name
            assert env["LISTENING_WORKERS__BROKER_URL"].startswith(("redis://", "amqp://")), name
    assert consumed == {"collect", "analyze", "route", "notify"}
    assert "--appendonly" in services["redis"]["command"]  # queued tasks survive a restart


@pytest.mark.parametrize("doc", ["KUBERNETES.md", "Dockerfile"])
def test_deploy_notes_exist(doc: str) -> None:
    assert (DEPLOY / doc).read_text(encoding="utf-8").strip()
