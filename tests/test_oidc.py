"""OIDC sign-in against a real local OpenID provider (oidc-provider-mock): the ID token of a
full authorization-code flow is verified, then mapped to a role and upserted into ``users``."""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet
from oidc_provider_mock import User as IdpUser
from oidc_provider_mock import run_server_in_thread
from sqlalchemy import func, select

from listening import accounts, oidc
from listening.config.auth import AuthSettings
from listening.errors import AccountError, ConfigError
from listening.store import Store
from listening.store.users import User

REDIRECT = "http://127.0.0.1:8599/oauth2callback"
PEOPLE = [
    IdpUser(
        sub="u-lea",
        claims={
            "preferred_username": "Lea",
            "name": "Léa Martin",
            "email": "lea@example.com",
            "groups": ["staff", "cx-support"],
        },
    ),
    IdpUser(
        sub="u-max",
        claims={
            "preferred_username": "max",
            "email": "max@example.com",
            "groups": ["staff", "cx-admins", "cx-support"],
        },
    ),
    IdpUser(sub="u-guest", claims={"preferred_username": "guest", "groups": ["visitors"]}),
    IdpUser(sub="u-ana", claims={"preferred_username": "ana", "groups": "cx-support"}),
    IdpUser(
        sub="u-zoe",
        claims={
            "preferred_username": "zoe",
            "email": "Zoe@Example.com",
            "email_verified": True,
            "groups": ["staff"],
        },
    ),
    IdpUser(
        sub="u-tom",
        claims={"preferred_username": "tom", "email": "tom@example.com", "email_verified": False},
    ),
]
MAP = {"cx-support": "support", "cx-admins": "admin", "cx-marketing": "marketing"}


@pytest.fixture(scope="module")
def idp() -> Iterator[str]:
    with run_server_in_thread(user_claims=PEOPLE) as server:
        yield f"http://localhost:{server.server_port}"


def id_token_claims(issuer: str, sub: str) -> dict[str, Any]:
    """Run the authorization-code flow as a browser and an RP would, and verify the ID token
    (signature from the provider's JWKS, issuer, audience, nonce): its claims."""
    meta = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    client = OAuth2Client(
        "listening-dashboard", "client-secret", scope="openid profile email", redirect_uri=REDIRECT
    )
    url, state = client.create_authorization_url(meta["authorization_endpoint"], nonce="n-42")
    consent = httpx.post(url, data={"sub": sub})  # the provider's sign-in form
    assert consent.status_code == 302, consent.text
    back = consent.headers["location"]
    assert back.startswith(REDIRECT) and parse_qs(urlsplit(back).query)["state"] == [state]
    token = client.fetch_token(meta["token_endpoint"], authorization_response=back)
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"]).json())
    decoded = jwt.decode(token["id_token"], keys)
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": meta["issuer"]},
        aud={"essential": True, "value": "listening-dashboard"},
        nonce={"essential": True, "value": "n-42"},
    ).validate(decoded.claims)
    return dict(decoded.claims)


SETTINGS = AuthSettings(oidc_role_map=MAP, oidc_role_claim="groups")


def test_oidc_role_from_real_id_token(idp: str) -> None:
    lea = id_token_claims(idp, "u-lea")
    assert lea["groups"] == ["staff", "cx-support"] and lea["iss"] == idp
    assert oidc.role_from_claims(lea, SETTINGS) == "support"
    assert oidc.role_from_claims(id_token_claims(idp, "u-max"), SETTINGS) == "admin"  # highest wins
    assert oidc.role_from_claims(id_token_claims(idp, "u-ana"), SETTINGS) == "support"  # a string
    guest = id_token_claims(idp, "u-guest")
    with pytest.raises(AccountError, match="no dashboard role") as err:
        oidc.role_from_claims(guest, SETTINGS)
    assert "auth.oidc_role_map" in err.value.hint
    fallback = AuthSettings(oidc_role_map=MAP, oidc_default_role="marketing")
    assert oidc.role_from_claims(guest, fallback) == "marketing"
    other_claim = AuthSettings(oidc_role_map={"Lea": "admin"}, oidc_role_claim="preferred_username")
    assert oidc.role_from_claims(lea, other_claim) == "admin"


def test_oidc_upsert_users(store: Store, idp: str) -> None:
    lea = id_token_claims(idp, "u-lea")
    with store.session() as s:
        user = oidc.sign_in(s, lea, SETTINGS)
        assert (user.username, user.role, user.display_name, user.email) == (
            "lea",
            "support",
            "Léa Martin",
            "lea@example.com",
        )
        assert user.oidc_subject == f"{idp}|u-lea" and user.password_hash is None
    # the provider moves her to the admins: same row, new role, at her next sign-in
    promoted = AuthSettings(oidc_role_map={**MAP, "staff": "admin"})
    with store.session() as s:
        assert oidc.sign_in(s, id_token_claims(idp, "u-lea"), promoted).role == "admin"
        assert s.scalar(select(func.count()).select_from(User)) == 1
        assert accounts.active_usernames(s) == ["lea"]
    # unknown group, no default: refused and nothing created
    with pytest.raises(AccountError, match="no dashboard role"), store.session() as s:
        oidc.sign_in(s, id_token_claims(idp, "u-guest"), SETTINGS)
    # a local account named like the OIDC user is never taken over
    with store.session() as s:
        accounts.add_user(s, "ana", "marketing", SETTINGS, "a local passphrase")
    with pytest.raises(AccountError, match="belongs to another account"), store.session() as s:
        oidc.sign_in(s, id_token_claims(idp, "u-ana"), SETTINGS)
    with store.session() as s:
        assert accounts.get_user(s, "ana").oidc_subject is None
        accounts.set_disabled(s, "lea", True)
    with pytest.raises(AccountError, match="disabled"), store.session() as s:
        oidc.sign_in(s, id_token_claims(idp, "u-lea"), SETTINGS)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 2


def test_oidc_secrets_toml(tmp_path: Path) -> None:
    secret_file = tmp_path / "client-secret"
    secret_file.write_text('s3cr"et\n', encoding="utf-8")
    settings = AuthSettings(
        oidc_server_metadata_url="https://idp.example/.well-known/openid-configuration",
        oidc_client_id="listening",
        oidc_client_secret_file=str(secret_file),
    )
    path = oidc.write_secrets(settings, "127.0.0.1", 8601, tmp_path / "data")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    auth = tomllib.loads(path.read_text(encoding="utf-8"))["auth"]
    assert auth["redirect_uri"] == "http://127.0.0.1:8601/oauth2callback"
    assert auth["client_secret"] == 's3cr"et' and auth["client_id"] == "listening"
    assert auth["server_metadata_url"] == settings.oidc_server_metadata_url
    assert len(auth["cookie_secret"]) >= 32
    kept = tmp_path / "data" / oidc.COOKIE_SECRET_FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    again = tomllib.loads(oidc.secrets_toml(settings, "127.0.0.1", 8601, tmp_path / "data"))
    assert again["auth"]["cookie_secret"] == auth["cookie_secret"]  # stable across restarts
    with pytest.raises(ConfigError, match="must end with /oauth2callback"):
        oidc.secrets_toml(
            settings.model_copy(update={"oidc_redirect_uri": "https://x.example/cb"}),
            "h",
            1,
            tmp_path,
        )
    with pytest.raises(ConfigError, match="without a client secret"):
        oidc.secrets_toml(
            settings.model_copy(update={"oidc_client_secret_file": ""}), "h", 1, tmp_path
        )
    secret_file.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        oidc.secrets_toml(settings, "h", 1, tmp_path)


def test_oidc_links_pre_provisioned_account_and_local_roles(store: Store, idp: str) -> None:
    """Roles managed locally (empty role map): `users add --no-password --email` is linked
    when the provider vouches for the e-mail, and keeps its local role."""
    local = AuthSettings()  # no role map, no default role
    with store.session() as s:
        accounts.add_user(s, "zoe", "community", local, None, email="zoe@example.com")
        accounts.add_user(s, "tom", "support", local, None, email="tom@example.com")
    zoe = id_token_claims(idp, "u-zoe")
    with store.session() as s:
        user = oidc.sign_in(s, zoe, local)
        assert (user.username, user.role, user.oidc_subject) == ("zoe", "community", f"{idp}|u-zoe")
        accounts.set_role(s, "zoe", "admin")
    with store.session() as s:  # linked now: found by subject, local role kept
        assert oidc.sign_in(s, id_token_claims(idp, "u-zoe"), local).role == "admin"
    # e-mail not verified by the provider: no link
    with pytest.raises(AccountError, match="belongs to another account"), store.session() as s:
        oidc.sign_in(s, id_token_claims(idp, "u-tom"), local)
    # a new identity with local roles: the default role, or refused
    with pytest.raises(AccountError, match="no dashboard role"), store.session() as s:
        oidc.sign_in(s, id_token_claims(idp, "u-lea"), local)
    with store.session() as s:
        fallback = AuthSettings(oidc_default_role="marketing")
        assert oidc.sign_in(s, id_token_claims(idp, "u-lea"), fallback).role == "marketing"
    # the session starts when the provider authenticated the user (the token's iat)
    start = oidc.started_at(zoe)
    assert start is not None and abs(start.timestamp() - zoe["iat"]) < 1
