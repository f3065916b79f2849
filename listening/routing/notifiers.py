"""Notification targets: generic webhook, Slack, email (SMTP), Zendesk and Freshdesk.

A target is declared in the ``routing.targets`` setting, by name::

    {"ops": {"kind": "webhook", "url": "https://hooks.example/listening", "secret": "s3cret"},
     "team-chat": {"kind": "slack", "url": "https://hooks.slack.com/services/..."},
     "logistics-mail": {"kind": "email", "to": ["logistique@example.fr"]},
     "zendesk": {"kind": "zendesk", "url": "https://acme.zendesk.com/api/v2/tickets.json",
                 "headers": {"Authorization": "Basic ..."}}}

Every HTTP delivery is a JSON POST carrying ``Idempotency-Key`` (stable across retries),
``X-Listening-Event`` and, when a secret is set, ``X-Listening-Signature: t=<unix>,v1=<hex>``
where ``hex = HMAC-SHA256(secret, "<unix>." + body)``. :func:`deliver` never raises on
a delivery problem: it returns a :class:`DeliveryResult` saying whether to retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from listening.config.routing import RoutingSettings
from listening.config.security import SecuritySettings
from listening.errors import RoutingError, UnsafeTargetError
from listening.netguard import check_url
from listening.secrets import mask_url
from listening.settings import get_settings

TARGET_KINDS: tuple[str, ...] = ("webhook", "slack", "email", "zendesk", "freshdesk")
SIGNATURE_HEADER = "X-Listening-Signature"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")
ZENDESK_PRIORITY = {"P1": "urgent", "P2": "high", "P3": "normal", "P4": "low"}
FRESHDESK_PRIORITY = {"P1": 4, "P2": 3, "P3": 2, "P4": 1}
RETRYABLE_STATUS = {408, 425, 429}


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["webhook", "slack", "email", "zendesk", "freshdesk"]
    url: str = ""
    secret: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    template: str | None = None
    to: list[str] = Field(default_factory=list)
    requester_email: str = "listening@localhost"

    @model_validator(mode="after")
    def _complete(self) -> TargetConfig:
        if self.kind == "email":
            if not self.to:
                raise ValueError("an email target needs 'to': a list of addresses")
        elif not self.url.startswith(("http://", "https://")):
            raise ValueError(f"a {self.kind} target needs an http(s) 'url', got {self.url!r}")
        return self


class TemplateError(RoutingError):
    """A payload template cannot be rendered."""


def parse_targets(routing: RoutingSettings) -> dict[str, TargetConfig]:
    """Validated targets; unknown team targets or bad fields give a clear error."""
    targets: dict[str, TargetConfig] = {}
    for name, raw in routing.targets.items():
        try:
            targets[name] = TargetConfig.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "target"
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown key; valid keys: {', '.join(TargetConfig.model_fields)}"
            raise RoutingError(
                f"notification target {name!r}: {where}: {msg}",
                f"fix LISTENING_ROUTING__TARGETS; kinds: {', '.join(TARGET_KINDS)}",
            ) from None
        if targets[name].template is not None:
            render_template(name, targets[name].template or "", sample_payload())
    known = set(targets)
    for team, names in routing.team_targets.items():
        for n in names:
            if n not in known:
                raise RoutingError(
                    f"team {team!r} notifies unknown target {n!r}; configured targets: "
                    f"{', '.join(sorted(known)) or 'none'}",
                    "define it in LISTENING_ROUTING__TARGETS or fix LISTENING_ROUTING__TEAM_TARGETS",
                )
    for n in routing.alert_targets:
        if n not in known:
            raise RoutingError(
                f"alert target {n!r} is not configured; configured targets: {', '.join(sorted(known)) or 'none'}",
                "define it in LISTENING_ROUTING__TARGETS or fix LISTENING_ROUTING__ALERT_TARGETS",
            )
    return targets


def sample_payload() -> dict[str, Any]:
    """A payload with every field, to validate templates before anything is sent."""
    return {
        "event": "ticket.created",
        "idempotency_key": "ticket:1:created:0123456789abcdef:sample",
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "summary": "[P1] support: sample",
        "ticket": {
            "id": 1, "team": "support", "priority": "P1", "status": "new", "rule": "sample",
            "tags": ["legal"], "sla_due_at": "2026-01-01T04:00:00+00:00", "url": "https://example.test",
            "text": "sample", "excerpt": "sample", "title": "", "brand": "Brand", "source": "source",
            "language": "fr", "sentiment": "negative", "intent": "complaint", "topics": ["delivery"],
            "urgency": ["legal_threat"], "document_id": 1,
        },
        "alert": {
            "id": 1, "brand": "Brand", "topic": "delivery", "kind": "volume", "recent_count": 10,
            "baseline": 1.0, "score": 5.0, "top_verbatims": [],
        },
    }


def _flatten(payload: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in payload.items():
        name = f"{prefix}{key}"
        flat[name] = value
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
    return flat


def render_template(target: str, template: str, payload: dict[str, Any]) -> Any:
    """Fill ``${field}`` placeholders (JSON-escaped) and parse the result as JSON."""
    fields = _flatten(sample_payload())
    fields.update(_flatten(payload))

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in fields:
            raise TemplateError(
                f"template of target {target!r}: unknown field ${{{name}}}",
                "valid fields: " + ", ".join(sorted(f for f in fields if not isinstance(fields[f], dict))),
            )
        value = fields[name]
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)[1:-1]
        return json.dumps(value, ensure_ascii=False, default=str)

    text = PLACEHOLDER.sub(fill, template)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(
            f"template of target {target!r} is not valid JSON once filled: {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}",
            "put string placeholders inside quotes: \"subject\": \"${ticket.excerpt}\"",
        ) from None


def _body_text(payload: dict[str, Any]) -> str:
    lines = [payload.get("summary", "")]
    ticket = payload.get("ticket")
    if ticket:
        lines += [
            f"Team: {ticket['team']}  Priority: {ticket['priority']}  SLA due: {ticket['sla_due_at']}",
            f"Rule: {ticket['rule']}  Tags: {', '.join(ticket['tags'])}",
            f"Source: {ticket['source']}  Brand: {ticket['brand']}  URL: {ticket['url']}",
            "",
            ticket["text"],
        ]
    alert = payload.get("alert")
    if alert:
        lines += [f"{alert['kind']} spike: {alert['recent_count']} verbatims vs baseline {alert['baseline']:.1f}"]
        lines += [f"- {v['excerpt']} ({v.get('url') or ''})" for v in alert.get("top_verbatims", [])]
    return "\n".join(lines)


def build_body(name: str, cfg: TargetConfig, payload: dict[str, Any]) -> Any:
    """The JSON body a target receives (its template, or the built-in shape of its kind)."""
    if cfg.template:
        return render_template(name, cfg.template, payload)
    ticket = payload.get("ticket") or {}
    subject = payload.get("summary", payload.get("event", "listening"))
    if cfg.kind == "slack":
        return {
            "text": subject,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": _body_text(payload)[:2900]}}],
        }
    if cfg.kind == "zendesk":
        return {
            "ticket": {
                "subject": subject[:250],
                "comment": {"body": _body_text(payload)},
                "priority": ZENDESK_PRIORITY.get(ticket.get("priority", ""), "normal"),
                "tags": ["listening", *ticket.get("tags", [])],
                "external_id": f"listening-{ticket.get('id') or payload.get('idempotency_key')}",
            }
        }
    if cfg.kind == "freshdesk":
        return {
            "subject": subject[:250],
            "description": _body_text(payload).replace("\n", "<br>"),
            "email": cfg.requester_email,
            "priority": FRESHDESK_PRIORITY.get(ticket.get("priority", ""), 2),
            "status": 2,
            "tags": ["listening", *ticket.get("tags", [])],
        }
    return payload


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, body: bytes, header: str, tolerance_s: float = 300) -> bool:
    """For receivers: check ``X-Listening-Signature`` (constant time, bounded clock skew)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


@dataclass
class DeliveryResult:
    ok: bool
    retry: bool = False
    status: int | None = None
    error: str = ""


def deliver(
    name: str,
    cfg: TargetConfig,
    payload: dict[str, Any],
    key: str,
    routing: RoutingSettings,
    client: httpx.Client | None = None,
    security: SecuritySettings | None = None,
) -> DeliveryResult:
    """Send one notification; never raises for delivery problems.

    Pass a ``client`` to reuse connections (and TLS setup) across notifications. The target
    URL passes the SSRF guard (``security``, default: the current settings) first; a refused
    target is not retried.
    """
    try:
        body = build_body(name, cfg, payload)
    except TemplateError as exc:
        return DeliveryResult(ok=False, retry=False, error=f"{exc.message} ({exc.hint})")
    if cfg.kind == "email":
        return _send_email(cfg, payload, key, routing)
    data = json.dumps(body, ensure_ascii=False, default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "listening-notifier/1",
        "Idempotency-Key": key,
        "X-Listening-Event": str(payload.get("event", "")),
        **cfg.headers,
    }
    secret = cfg.secret or routing.webhook_secret
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, data, int(time.time()))
    try:
        check_url(cfg.url, security or get_settings().security, f"target {name!r}:")
        poster = client.post if client is not None else httpx.post
        response = poster(cfg.url, content=data, headers=headers, timeout=routing.delivery_timeout_seconds)
    except UnsafeTargetError as exc:
        return DeliveryResult(False, False, None, f"{exc.message} ({exc.hint})")
    except httpx.TimeoutException:
        return DeliveryResult(False, True, None, f"timeout after {routing.delivery_timeout_seconds:g} s")
    except httpx.HTTPError as exc:
        return DeliveryResult(False, True, None, f"cannot reach {mask_url(cfg.url)}: {exc.__class__.__name__}: {exc}")
    status = response.status_code
    if 200 <= status < 300:
        return DeliveryResult(True, False, status)
    snippet = " ".join(response.text.split())[:200]
    error = f"HTTP {status} from {mask_url(cfg.url)}: {snippet}"
    retry = status >= 500 or status in RETRYABLE_STATUS
    if not retry:
        error += " (not retried: fix the target URL, credentials or template, then `listening notify --retry-dead`)"
    return DeliveryResult(False, retry, status, error)


def _send_email(
    cfg: TargetConfig, payload: dict[str, Any], key: str, routing: RoutingSettings
) -> DeliveryResult:
    message = EmailMessage()
    message["Subject"] = str(payload.get("summary", "listening notification"))[:200]
    message["From"] = routing.smtp_from
    message["To"] = ", ".join(cfg.to)
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@listening>"
    message["X-Listening-Idempotency-Key"] = key
    message.set_content(_body_text(payload))
    return send_message(message, routing)


def send_message(message: EmailMessage, routing: RoutingSettings) -> DeliveryResult:
    """Send one e-mail through the ``routing.smtp_*`` server; never raises for delivery problems."""
    try:
        with smtplib.SMTP(routing.smtp_host, routing.smtp_port, timeout=routing.delivery_timeout_seconds) as smtp:
            if routing.smtp_starttls:
                smtp.starttls()
            if routing.smtp_user:
                smtp.login(routing.smtp_user, routing.smtp_password)
            smtp.send_message(message)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        return DeliveryResult(False, False, None, f"SMTP refused the message: {exc}")
    except smtplib.SMTPAuthenticationError as exc:
        return DeliveryResult(False, False, None, f"SMTP authentication failed: {exc.smtp_code}")
    except (OSError, smtplib.SMTPException) as exc:
        return DeliveryResult(
            False, True, None,
            f"cannot send through {routing.smtp_host}:{routing.smtp_port}: {exc.__class__.__name__}: {exc}",
        )
    return DeliveryResult(True, False, 250)
