"""Settings of the routing stage (rules, tickets, notifications, alerts)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RoutingSettings(BaseModel):
    """``LISTENING_ROUTING__*``: how analysed verbatims become tickets and notifications."""

    rules_file: str = Field(
        default="",
        description="YAML routing rules; empty uses the shipped defaults (docs/ROUTING.md).",
    )
    own_source_kinds: list[str] = Field(
        default_factory=lambda: ["survey", "email", "review_site"],
        description=(
            "Source kinds whose verbatims concern the merchant by construction (its surveys, mailboxes, "
            "review pages of the brand); others must name the brand or a relevance keyword to be ticketed."
        ),
    )
    relevance_keywords: list[str] = Field(
        default_factory=list,
        description=(
            "Words besides brand names and aliases that make a verbatim concern the merchant "
            '(product names, shop domain), e.g. ["lampe Orsay", "maisonlumiere.fr"].'
        ),
    )
    ticket_languages: list[str] = Field(
        default_factory=lambda: ["fr", "en"],
        description="Languages (ISO 639-1) the teams answer; verbatims in others are analysed but not ticketed.",
    )
    ticket_max_age_days: float = Field(
        default=14.0,
        ge=0,
        description=(
            "Verbatims published longer ago than this open no ticket unless a rule allows 'too_old' "
            "(backlog imported on a first collection); 0 = no limit."
        ),
    )
    batch_size: int = Field(
        default=200, ge=1, description="Documents routed per transaction by `listening route`."
    )
    sla_p1_hours: float = Field(
        default=4.0, gt=0, description="Time to first answer of a P1 ticket, in hours."
    )
    sla_p2_hours: float = Field(
        default=24.0, gt=0, description="Time to first answer of a P2 ticket, in hours."
    )
    sla_p3_hours: float = Field(
        default=72.0, gt=0, description="Time to first answer of a P3 ticket, in hours."
    )
    sla_p4_hours: float = Field(
        default=168.0, gt=0, description="Time to first answer of a P4 ticket, in hours."
    )
    targets: dict[str, dict[str, Any]] = Field(
        json_schema_extra={"secret": "keys"},
        default_factory=dict,
        description=(
            'Notification targets by name, e.g. {"ops": {"kind": "webhook", "url": "https://..."}}; '
            "kinds: webhook, slack, email, zendesk, freshdesk (docs/ROUTING.md)."
        ),
    )
    team_targets: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Targets notified for every ticket of a team, e.g. {"logistics": ["ops"]}.',
    )
    webhook_secret: str = Field(
        json_schema_extra={"secret": True},
        default="",
        description="Default HMAC-SHA256 secret signing webhook bodies (a target's own 'secret' wins).",
    )
    max_attempts: int = Field(
        default=5,
        ge=1,
        description="Delivery attempts of a notification before it is dead-lettered.",
    )
    backoff_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Delay before the first retry; doubled at each failed attempt.",
    )
    backoff_max_seconds: float = Field(
        default=3600.0, ge=0, description="Longest delay between two delivery attempts."
    )
    delivery_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one HTTP or SMTP delivery attempt."
    )
    smtp_host: str = Field(default="localhost", description="SMTP server for email targets.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_user: str = Field(default="", description="SMTP login (empty: no authentication).")
    smtp_password: str = Field(
        default="", description="SMTP password.", json_schema_extra={"secret": True}
    )
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS."
    )
    smtp_from: str = Field(
        default="listening@localhost", description="Sender address of notification emails."
    )
    alert_recent_hours: float = Field(
        default=6.0,
        gt=0,
        description="Spike alerts: length of the recent window compared to the baseline.",
    )
    alert_baseline_days: float = Field(
        default=14.0,
        gt=0,
        description="Spike alerts: trailing days forming the baseline (in recent-window buckets).",
    )
    alert_min_count: int = Field(
        default=5,
        ge=1,
        description="Spike alerts: fewest verbatims in the recent window to raise an alert.",
    )
    alert_volume_z: float = Field(
        default=3.5,
        gt=0,
        description="Spike alerts: robust z-score (median/MAD) of the volume that opens an alert.",
    )
    alert_volume_ratio: float = Field(
        default=2.0,
        ge=1,
        description="Spike alerts: recent volume must also be this many times the median bucket.",
    )
    alert_negative_share_delta: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="Spike alerts: rise of the negative share (0..1) over the baseline that opens an alert.",
    )
    alert_targets: list[str] = Field(
        default_factory=list, description="Targets notified when a spike alert opens."
    )
    alert_top_verbatims: int = Field(
        default=5, ge=1, description="Verbatims quoted in a spike alert."
    )
