"""`listening api tokens create|list|revoke` and `listening api` serving for real."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_helpers import auth
from fastapi.testclient import TestClient

from listening.api.app import create_app
from listening.cli import main
from listening.store import Store

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    main(list(argv))
    return capsys.readouterr().out


def test_api_cli_tokens_create_list_revoke(
    sqlite_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    created = json.loads(
        run(
            capsys,
            "api",
            "tokens",
            "create",
            "bi-export",
            "--role",
            "marketing",
            "--expires-days",
            "30",
            "--json",
        ).splitlines()[-1]
    )
    token = created["token"]
    assert token.startswith("lst_") and len(token) > 40 and created["prefix"] == token[:12]
    text = run(capsys, "api", "tokens", "create", "ops", "--role", "support")
    ops_token = text.split()[-1]
    assert ops_token.startswith("lst_")  # printed once, on its own line
    listing = run(capsys, "api", "tokens", "list", "--json")
    assert token not in listing and ops_token not in listing
    rows = {r["name"]: r for r in json.loads(listing.splitlines()[-1])}
    assert rows["bi-export"]["role"] == "marketing" and rows["bi-export"]["state"] == "active"
    assert rows["bi-export"]["expires_at"] and rows["ops"]["expires_at"] is None
    assert "bi-export" in run(capsys, "api", "tokens", "list")

    client = TestClient(create_app(sqlite_store.url))
    assert client.get("/v1/alerts", headers=auth(token)).status_code == 200
    run(capsys, "api", "tokens", "revoke", "bi-export")
    assert client.get("/v1/alerts", headers=auth(token)).status_code == 401
    assert client.get("/v1/tickets", headers=auth(ops_token)).status_code == 200
    revoked = json.loads(run(capsys, "api", "tokens", "list", "--json").splitlines()[-1])
    assert {r["name"]: r["state"] for r in revoked} == {"bi-export": "revoked", "ops": "active"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["create", "x", "--role", "boss"], "L011: unknown role 'boss'"),
        (["create", "x", "--role", "admin", "--expires-days", "0"], "must be positive"),
        (["revoke", "ghost"], "L011: no token named 'ghost'"),
    ],
)
def test_api_cli_tokens_refuse_bad_input(
    sqlite_store: Store, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["api", "tokens", *argv])
    assert exit_.value.code == 1
    assert message in capsys.readouterr().err


def test_api_cli_tokens_duplicate_name(
    sqlite_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "api", "tokens", "create", "dup", "--role", "admin")
    with pytest.raises(SystemExit):
        main(["api", "tokens", "create", "dup", "--role", "admin"])
    assert "already exists" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_cli_serves_with_uvicorn(sqlite_store: Store) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "listening.cli", "api", "--port", str(port)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.3)
        assert resp.json()["store"] == "ok"
        refused = httpx.get(f"http://127.0.0.1:{port}/v1/verbatims", timeout=5)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "L011"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
