"""OpenID Connect sign-in: ID-token claims to a role and a ``users`` row; Streamlit's
``[auth]`` secrets.

The dashboard signs people in through Streamlit's ``st.login`` (Authlib underneath):
`listening dashboard` writes the ``[auth]`` section from the ``auth.oidc_*`` settings
into a generated ``secrets.toml`` (:func:`write_secrets`), and after the provider's
redirect the dashboard hands the ID-token claims to :func:`sign_in`. The role comes from
the claim ``auth.oidc_role_claim`` (a string or a list) through ``auth.oidc_role_map``;
no match gives ``auth.oidc_default_role``, or a refusal when it is empty. The provider is
the source of truth: the role is updated at every sign-in; an account disabled here stays
refused.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listening.accounts import ROLE_RANK, USERNAME_RE, find_user
from listening.config.auth import AuthSettings
from listening.errors import AccountError, ConfigError
from listening.store.users import User

COOKIE_SECRET_FILE = "auth-cookie-secret"


def role_from_claims(claims: dict[str, Any], settings: AuthSettings) -> str:
    """The most powerful role the claim's values map to, else the default role."""
    raw = claims.get(settings.oidc_role_claim)
    values = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list | tuple) else []
    roles = [
        settings.oidc_role_map[v]
        for v in values
        if isinstance(v, str) and v in settings.oidc_role_map
    ]
    if roles:
        return max(roles, key=lambda r: ROLE_RANK[r])
    if settings.oidc_default_role:
        return settings.oidc_default_role
    raise AccountError(
        f"no dashboard role for this account (claim {settings.oidc_role_claim!r}: {raw!r})",
        "ask an admin to map one of your groups in auth.oidc_role_map",
    )


def subject(claims: dict[str, Any]) -> str:
    """``issuer|sub``: stable and unique across providers."""
    sub, iss = claims.get("sub"), claims.get("iss")
    if not isinstance(sub, str) or not sub:
        raise AccountError("the ID token has no 'sub' claim", "check the provider's configuration")
    return f"{iss or ''}|{sub}"


def _username(claims: dict[str, Any]) -> str:
    for key in ("preferred_username", "email", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and USERNAME_RE.match(value.strip().lower()):
            return value.strip().lower()
    raise AccountError(
        "the ID token carries no usable username (preferred_username, email or sub)",
        "use letters, digits and . _ @ + - in the provider's usernames",
    )


def _verified_email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and email and claims.get("email_verified") is True:
        return email.strip().lower()
    return None


def _account(session: Session, claims: dict[str, Any], key: str) -> User | None:
    """The account of this identity: by issuer|sub, else a pre-provisioned one to link."""
    user = session.scalar(select(User).where(User.oidc_subject == key))
    if user is not None:
        return user
    name = _username(claims)
    existing = find_user(session, name)
    if existing is None:
        return None
    # an account made with `listening users add NAME --no-password --email ADDR` is linked
    # when the provider vouches for that e-mail; never a local password account, nor one
    # linked to another identity (usernames are often editable at the provider)
    email = _verified_email(claims)
    if (
        existing.password_hash is None
        and existing.oidc_subject is None
        and email is not None
        and (existing.email or "").strip().lower() == email
    ):
        existing.oidc_subject = key
        return existing
    raise AccountError(
        f"the username {name!r} belongs to another account",
        "ask an admin to rename it, or to create it with --no-password and your verified e-mail",
    )


def sign_in(
    session: Session, claims: dict[str, Any], settings: AuthSettings, now: datetime | None = None
) -> User:
    """The ``users`` row of this OIDC identity, created or updated (role, name, e-mail).

    With ``auth.oidc_role_map`` set, the provider decides the role at every sign-in (a
    user removed from a group loses its role). With an empty map, roles are managed here
    (`listening users set-role`): a known account keeps its role, a new one gets
    ``auth.oidc_default_role`` or is refused.
    """
    key = subject(claims)
    user = _account(session, claims, key)
    if settings.oidc_role_map or user is None:
        role = role_from_claims(claims, settings)
    else:
        role = user.role
    if user is None:
        user = User(
            username=_username(claims),
            role=role,
            disabled=False,
            failed_logins=0,
            oidc_subject=key,
        )
        session.add(user)
    if user.disabled:
        raise AccountError(f"the account {user.username!r} is disabled", "ask an admin")
    user.role = role
    display = claims.get("name")
    if isinstance(display, str) and display.strip():
        user.display_name = display.strip()
    elif not user.display_name:
        user.display_name = user.username
    email = claims.get("email")
    user.email = email if isinstance(email, str) and email else user.email
    user.last_login_at = now or datetime.now(UTC)
    session.flush()
    return user


def started_at(claims: dict[str, Any]) -> datetime | None:
    """When the provider authenticated the user (``auth_time``, else the token's ``iat``):
    the start of the session, so ``auth.session_max_hours`` also bounds Streamlit's
    identity cookie across browser tabs."""
    for key in ("auth_time", "iat"):
        value = claims.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
    return None


# ------------------------------------------------------------- Streamlit's secrets
def client_secret(settings: AuthSettings) -> str:
    if settings.oidc_client_secret_file:
        path = Path(settings.oidc_client_secret_file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(
                f"cannot read auth.oidc_client_secret_file {path}: {exc.strerror}", "check the path"
            ) from None
        if not lines or not lines[0].strip():
            raise ConfigError(f"{path} is empty", "write the OIDC client secret on its first line")
        return lines[0].strip()
    return settings.oidc_client_secret.get_secret_value()


def cookie_secret(settings: AuthSettings, data_dir: Path) -> str:
    """The configured cookie secret, else a random one created once in ``data_dir``."""
    configured = settings.oidc_cookie_secret.get_secret_value()
    if configured:
        return configured
    path = data_dir / COOKIE_SECRET_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def secrets_toml(settings: AuthSettings, address: str, port: int, data_dir: Path) -> str:
    """The ``[auth]`` section Streamlit's ``st.login`` reads."""
    secret = client_secret(settings)
    if not secret:
        raise ConfigError(
            "OIDC sign-in is configured without a client secret",
            "set LISTENING_AUTH__OIDC_CLIENT_SECRET_FILE (or LISTENING_AUTH__OIDC_CLIENT_SECRET)",
        )
    redirect = settings.oidc_redirect_uri or f"http://{address}:{port}/oauth2callback"
    if not redirect.rstrip("/").endswith("/oauth2callback"):
        raise ConfigError(
            f"auth.oidc_redirect_uri {redirect!r} must end with /oauth2callback",
            "Streamlit receives the provider's answer there; register that URL at the provider",
        )
    values = {
        "redirect_uri": redirect,
        "cookie_secret": cookie_secret(settings, data_dir),
        "client_id": settings.oidc_client_id,
        "client_secret": secret,
        "server_metadata_url": settings.oidc_server_metadata_url,
    }
    lines = ["[auth]", *(f"{k} = {_toml_str(v)}" for k, v in values.items())]
    lines.append('client_kwargs = { scope = "openid profile email" }')
    return "\n".join(lines) + "\n"


def write_secrets(settings: AuthSettings, address: str, port: int, data_dir: Path) -> Path:
    """Write the generated secrets.toml (mode 0600) in ``data_dir``; its path."""
    text = secrets_toml(settings, address, port, data_dir)
    path = data_dir / "dashboard-secrets.toml"
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    return path
