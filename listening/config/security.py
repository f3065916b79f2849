"""Settings group ``security``: Hardening: outbound-target guard, secrets (docs/SECURITY.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class SecuritySettings(BaseModel):
    """``LISTENING_SECURITY__*``: Hardening: outbound-target guard, secrets (docs/SECURITY.md)."""

    allow_private_targets: bool = Field(
        default=False,
        description=(
            "Let listening fetch or post to loopback, private (10/8, 172.16/12, 192.168/16, "
            "fc00::/7), link-local, CGNAT, multicast, reserved and unspecified addresses "
            "(source, feed and API URLs, redirects, webhooks). Off: such targets are refused "
            "(L010); cloud metadata addresses stay refused even when on. For a lab or the demo."
        ),
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description=(
            "Host names (or IP literals) allowed even when they resolve to a private address, "
            'e.g. ["intranet.example.com"] for an internal forum or webhook receiver. Exact '
            "names, case-insensitive; '*.example.com' also allows its subdomains."
        ),
    )

    @field_validator("allowed_hosts")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [v.strip().lower().rstrip(".") for v in value if v.strip()]
