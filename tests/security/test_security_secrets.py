"""Secret settings: masked by `config show`, readable from files (`..._FILE`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.errors import ConfigError
from listening.secrets import mask_url
from listening.settings import get_settings, iter_setting_fields, load_settings

runner = CliRunner()

SECRETS = {
    "LISTENING_DATABASE_URL": "postgresql+psycopg://lst:Db-S3cret-1@db.internal:5432/listening",
    "LISTENING_COLLECTION__AUTHOR_SALT": "Salt-S3cret-2",
    "LISTENING_COLLECTION__CHANNEL_TOKENS": '{"youtube": "Tok-S3cret-3-abcdefghij"}',
    "LISTENING_ROUTING__WEBHOOK_SECRET": "Hook-S3cret-4",
    "LISTENING_ROUTING__SMTP_PASSWORD": "Smtp-S3cret-5",
    "LISTENING_ROUTING__TARGETS": json.dumps(
        {
            "ops": {
                "kind": "webhook",
                "url": "https://u:Url-S3cret-6@hooks.example/x",
                "secret": "Tgt-S3cret-7",
                "headers": {"Authorization": "Bearer Hdr-S3cret-8"},
            }
        }
    ),
    "LISTENING_AUTH__OIDC_CLIENT_SECRET": "Oidc-S3cret-9",
    "LISTENING_WORKERS__BROKER_URL": "amqp://guest:Amqp-S3cret-10@rabbit:5672//",
}


def _show(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> tuple[int, str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    res = runner.invoke(app, ["config", "show", "--json"])
    return res.exit_code, res.output + (str(res.exception) if res.exception else "")


def test_secrets_absent_from_config_show_json(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _show(monkeypatch, SECRETS)
    assert code == 0, out
    assert "S3cret" not in out
    values = json.loads(out.strip().splitlines()[-1])
    assert values["database_url"] == "postgresql+psycopg://lst:****@db.internal:5432/listening"
    assert values["workers.broker_url"] == "amqp://guest:****@rabbit:5672//"
    assert values["collection.author_salt"] == "********"
    assert values["routing.targets"]["ops"]["kind"] == "webhook"  # structure kept
    assert values["routing.targets"]["ops"]["url"] == "https://u:****@hooks.example/x"
    assert values["auth.oidc_client_secret"] == "********"
    assert values["collection.channel_tokens"] == {"youtube": "…ghij"}  # tells tokens apart
    # the table form too
    table = runner.invoke(app, ["config", "show"])
    assert table.exit_code == 0 and "S3cret" not in table.output


def test_every_secret_looking_setting_is_marked() -> None:
    from listening.secrets import is_secret

    for dotted, _env, field in iter_setting_fields():
        if field.annotation in (int, float, bool) or dotted.endswith("_file"):
            continue  # a length, a count or a path to the secret is not the secret
        if any(w in dotted for w in ("salt", "secret", "password", "token", "broker_url")):
            assert is_secret(field), f"{dotted} holds a secret: mark it json_schema_extra secret"


def test_secret_from_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    salt = tmp_path / "salt"
    salt.write_text("File-S3cret-salt\n", encoding="utf-8")
    passwords = tmp_path / "recipients.json"
    passwords.write_text('{"team:support": ["sav@example.fr"]}', encoding="utf-8")
    db = tmp_path / "db_url"
    db.write_text("sqlite:///" + str(tmp_path / "x.db"), encoding="utf-8")
    monkeypatch.setenv("LISTENING_COLLECTION__AUTHOR_SALT_FILE", str(salt))
    monkeypatch.setenv("LISTENING_INSIGHTS__DIGEST_RECIPIENTS_FILE", str(passwords))
    monkeypatch.delenv("LISTENING_DATABASE_URL")
    monkeypatch.setenv("LISTENING_DATABASE_URL_FILE", str(db))
    monkeypatch.setenv("LISTENING_SECURITY__ALLOWED_HOSTS_FILE", str(passwords.with_name("h")))
    passwords.with_name("h").write_text('["intranet.example"]', encoding="utf-8")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.collection.author_salt == "File-S3cret-salt"  # trailing newline dropped
    assert settings.insights.digest_recipients == {"team:support": ["sav@example.fr"]}
    assert settings.database_url.endswith("x.db")
    assert settings.security.allowed_hosts == ["intranet.example"]
    code, out = _show(monkeypatch, {})
    assert code == 0 and "File-S3cret" not in out


def test_bad_secret_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nope" / "salt"
    monkeypatch.setenv("LISTENING_COLLECTION__AUTHOR_SALT_FILE", str(missing))
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert (
        f"LISTENING_COLLECTION__AUTHOR_SALT_FILE={missing}: cannot read the file"
        in err.value.message
    )
    assert "No such file" in err.value.message and "readable file" in err.value.hint
    code, out = _show(monkeypatch, {})
    assert code != 0 and "cannot read the file" in out
    monkeypatch.delenv("LISTENING_COLLECTION__AUTHOR_SALT_FILE")
    bad_json = tmp_path / "pw"
    bad_json.write_text("admin=x", encoding="utf-8")
    monkeypatch.setenv("LISTENING_INSIGHTS__DIGEST_RECIPIENTS_FILE", str(bad_json))
    with pytest.raises(ConfigError, match="does not hold JSON"):
        load_settings()
    monkeypatch.delenv("LISTENING_INSIGHTS__DIGEST_RECIPIENTS_FILE")
    monkeypatch.setenv("LISTENING_ROUTING__SMTP_PASSWORD", "x")
    monkeypatch.setenv("LISTENING_ROUTING__SMTP_PASSWORD_FILE", str(bad_json))
    with pytest.raises(ConfigError, match="both LISTENING_ROUTING__SMTP_PASSWORD and"):
        load_settings()


def test_mask_url() -> None:
    assert mask_url("redis://:pw@127.0.0.1:6379/0") == "redis://:****@127.0.0.1:6379/0"
    assert (
        mask_url("https://h.example/x?token=abc&page=2") == "https://h.example/x?token=****&page=2"
    )
    assert mask_url("postgresql://u:p@[::1]:5432/db") == "postgresql://u:****@[::1]:5432/db"
    assert mask_url("https://h.example/x") == "https://h.example/x"
