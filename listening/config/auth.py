"""Settings group ``auth``: accounts, sign-in and roles (docs/ACCOUNTS.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator

ROLES: tuple[str, ...] = ("community", "support", "marketing", "admin")


class AuthSettings(BaseModel):
    """``LISTENING_AUTH__*``: accounts, sign-in and roles (docs/ACCOUNTS.md)."""

    lockout_attempts: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Wrong passwords in a row that lock an account (see auth.lockout_minutes).",
    )
    lockout_minutes: float = Field(
        default=15.0,
        gt=0,
        description="Minutes an account stays locked after auth.lockout_attempts wrong passwords.",
    )
    session_idle_minutes: float = Field(
        default=60.0,
        gt=0,
        description="A dashboard session left unused this many minutes is signed out.",
    )
    session_max_hours: float = Field(
        default=12.0,
        gt=0,
        description="A dashboard session is signed out this many hours after sign-in, used or not.",
    )
    min_password_length: int = Field(
        default=12,
        ge=8,
        le=1024,
        description="Shortest password `listening users add|reset-password` accepts.",
    )
    oidc_server_metadata_url: str = Field(
        default="",
        description=(
            "OpenID Connect sign-in: the provider's discovery URL "
            "(https://idp.example/.well-known/openid-configuration). Empty: no OIDC button."
        ),
    )
    oidc_client_id: str = Field(
        default="", description="OIDC client id registered at the provider."
    )
    oidc_client_secret: SecretStr = Field(
        default=SecretStr(""),
        description="OIDC client secret (prefer auth.oidc_client_secret_file).",
    )
    oidc_client_secret_file: str = Field(
        default="",
        description="File holding the OIDC client secret (wins over auth.oidc_client_secret).",
    )
    oidc_redirect_uri: str = Field(
        default="",
        description=(
            "Callback URL registered at the provider, ending in /oauth2callback. Empty: "
            "http://<dashboard.address>:<dashboard.port>/oauth2callback."
        ),
    )
    oidc_cookie_secret: SecretStr = Field(
        default=SecretStr(""),
        description=(
            "Secret signing the sign-in cookie. Empty: a random one kept in "
            "<data_dir>/auth-cookie-secret."
        ),
    )
    oidc_role_claim: str = Field(
        default="groups",
        description="ID-token claim (a string or a list) whose values auth.oidc_role_map maps to roles.",
    )
    oidc_role_map: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'JSON object claim value -> role, e.g. \'{"cx-support": "support", '
            '"cx-admins": "admin"}\'; the provider decides at every sign-in, the most '
            "powerful match wins. Empty: roles are set with `listening users set-role`."
        ),
    )
    oidc_default_role: str = Field(
        default="",
        description=(
            "Role of an OIDC user whose claim maps to no role. Empty: such a user is refused."
        ),
    )

    @field_validator("oidc_role_map")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted({role for role in value.values() if role not in ROLES})
        if unknown:
            raise ValueError(
                f"unknown role(s) {', '.join(unknown)}; valid roles: {', '.join(ROLES)}"
            )
        return value

    @field_validator("oidc_default_role")
    @classmethod
    def _known_default(cls, value: str) -> str:
        if value and value not in ROLES:
            raise ValueError(f"unknown role {value!r}; valid roles: {', '.join(ROLES)} or empty")
        return value

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_server_metadata_url and self.oidc_client_id)
