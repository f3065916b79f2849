"""E-mailed digests: the report of a period, per team or role, sent once.

An audience is ``team:<team>`` (its SLA figures are the team's tickets) or ``role:<role>``
(every team); its addresses come from ``insights.digest_recipients``. A digest is the
HTML report as the e-mail body (Markdown as the plain-text alternative) with the PDF
attached, sent through the notifications' SMTP server (``routing.smtp_*``). Each
(audience, period) is recorded in ``report_digests``: a second run for the same period
does nothing unless forced; a period without any verbatim is recorded as ``no_data`` and
nothing is sent.

Schedule: the weekly digest of the last complete week is due from ``digest_weekday`` at
``digest_hour`` (in ``timezone``) until the week ends; ``listening serve`` calls
:func:`send_due_digests` after each pass and the distributed scheduler enqueues the
``listening.digest`` task when :func:`pending_audiences` is not empty. Both take the
clock as an argument (tests inject it).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from listening.errors import ReportError
from listening.reports.build import Report, build_report
from listening.reports.i18n import fmt_day, t
from listening.reports.period import Period, resolve_period
from listening.settings import Settings
from listening.store import Store
from listening.store.digests import ReportDigest

log = logging.getLogger(__name__)
DONE = ("sent", "no_data")


def audience_key(team: str | None, role: str | None, settings: Settings) -> str:
    """``team:<team>`` or ``role:<role>``, which must have recipients configured."""
    if bool(team) == bool(role):
        raise ReportError("give either --team or --role", "e.g. --team support or --role marketing")
    key = f"team:{team}" if team else f"role:{role}"
    configured = settings.insights.digest_recipients
    if key not in configured:
        raise ReportError(
            f"no digest recipients for {key!r}; configured: {', '.join(sorted(configured)) or 'none'}",
            'set LISTENING_INSIGHTS__DIGEST_RECIPIENTS, e.g. {"team:support": ["sav@example.fr"]}',
        )
    return key


def due_period(settings: Settings, now: datetime) -> Period | None:
    """The week whose digest is due at ``now`` (None before this week's send time)."""
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    at = datetime.combine(
        monday + timedelta(days=settings.insights.digest_weekday),
        time(settings.insights.digest_hour),
        zone,
    )
    return resolve_period("week", local.date()) if local >= at else None


def _row(session: Any, audience: str, p: Period) -> ReportDigest | None:
    return session.scalars(
        select(ReportDigest).where(
            ReportDigest.audience == audience,
            ReportDigest.period == p.kind,
            ReportDigest.period_start == p.start,
        )
    ).one_or_none()


def _waiting(row: ReportDigest, now: datetime, settings: Settings) -> bool:
    """A live claim, or a failure too recent to retry."""
    retry = timedelta(minutes=settings.insights.digest_retry_minutes)
    return row.status in ("sending", "failed") and row.updated_at > now - retry


def pending_audiences(store: Store, settings: Settings, now: datetime) -> list[str]:
    """Audiences whose due weekly digest is neither done nor being (re)tried."""
    p = due_period(settings, now)
    if p is None:
        return []
    out = []
    with store.session() as session:
        for audience in settings.insights.digest_recipients:
            row = _row(session, audience, p)
            if row is None or (row.status not in DONE and not _waiting(row, now, settings)):
                out.append(audience)
    return out


def _claim(
    store: Store,
    audience: str,
    p: Period,
    recipients: list[str],
    now: datetime,
    settings: Settings,
    force: bool,
    scheduled: bool,
) -> str | None:
    """Take the (audience, period) row for sending; the reason when it must not be sent."""
    try:
        with store.session() as session:
            row = _row(session, audience, p)
            if row is None:
                row = ReportDigest(
                    audience=audience,
                    period=p.kind,
                    period_start=p.start,
                    period_end=p.end,
                    recipients=recipients,
                    attempts=0,
                )
                session.add(row)
            elif row.status in DONE and not force:
                return f"already {row.status.replace('_', ' ')} for this period"
            elif row.status == "sending" and _waiting(row, now, settings) and not force:
                return "being sent by another process"
            elif row.status == "failed" and scheduled and _waiting(row, now, settings):
                return "failed recently; retried later"
            row.status, row.attempts, row.updated_at = "sending", row.attempts + 1, now
            row.recipients, row.error = recipients, None
    except IntegrityError:  # another process inserted it first
        return "being sent by another process"
    return None


def _finish(
    store: Store, audience: str, p: Period, status: str, now: datetime, error: str | None = None
) -> None:
    with store.session() as session:
        row = _row(session, audience, p)
        if row is not None:
            row.status, row.error, row.updated_at = status, error, now
            if status == "sent":
                row.sent_at = now


def build_message(
    report: Report,
    audience: str,
    recipients: list[str],
    settings: Settings,
    html: str,
    text: str,
    pdf: bytes | None,
) -> EmailMessage:
    lang, p = report.lang, report.period
    subject = t(
        "digest.subject",
        lang,
        kind=t(f"kind.{p.kind}", lang),
        brand=report.brand or t("all_brands", lang),
        start=fmt_day(p.start, lang),
        end=fmt_day(p.end, lang),
    )
    key = f"digest:{audience}:{p.kind}:{p.start.isoformat()}"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.routing.smtp_from
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@listening>"
    message["X-Listening-Idempotency-Key"] = key
    message.set_content(text + (f"\n{t('digest.attached', lang)}\n" if pdf else ""))
    message.add_alternative(html, subtype="html")
    if pdf:
        message.add_attachment(
            pdf,
            maintype="application",
            subtype="pdf",
            filename=f"report-{p.start.isoformat()}-{p.end.isoformat()}.pdf",
        )
    return message


def send_digest(
    store: Store,
    settings: Settings,
    audience: str,
    period: str = "week",
    now: datetime | None = None,
    force: bool = False,
    dry_run: bool = False,
    scheduled: bool = False,
) -> dict[str, Any]:
    """Build and e-mail one audience's digest of ``period``; a summary dict (``status``)."""
    from listening.reports.charts import charts
    from listening.reports.markup import to_html, to_markdown
    from listening.reports.pdf import to_pdf
    from listening.routing.notifiers import send_message

    now = now or datetime.now(UTC)
    recipients = list(settings.insights.digest_recipients.get(audience, []))
    if not recipients:
        raise ReportError(
            f"no digest recipients for {audience!r}", "set LISTENING_INSIGHTS__DIGEST_RECIPIENTS"
        )
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    p = resolve_period(period, today)
    summary: dict[str, Any] = {
        "audience": audience,
        "period": p.kind,
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "recipients": recipients,
    }
    if not dry_run:
        reason = _claim(store, audience, p, recipients, now, settings, force, scheduled)
        if reason:
            return {**summary, "status": "skipped", "reason": reason}
    kind, _, name = audience.partition(":")
    try:
        report = build_report(
            store,
            period=p,
            brand=settings.insights.digest_brand or None,
            now=now,
            teams=(name,) if kind == "team" else (),
            settings=settings,
            allow_empty=True,
        )
        if report.empty:
            if not dry_run:
                _finish(store, audience, p, "no_data", now)
            return {**summary, "status": "no_data"}
        images = charts(report)
        html = to_html(report, images, settings.timezone)
        pdf = to_pdf(report, images, settings.timezone) if settings.insights.digest_pdf else None
        message = build_message(
            report,
            audience,
            recipients,
            settings,
            html,
            to_markdown(report, settings.timezone),
            pdf,
        )
    except Exception as exc:
        if not dry_run:
            _finish(store, audience, p, "failed", now, f"{type(exc).__name__}: {exc}")
        raise
    summary.update(
        subject=str(message["Subject"]), html_bytes=len(html.encode()), pdf_bytes=len(pdf or b"")
    )
    if dry_run:
        return {**summary, "status": "dry_run"}
    result = send_message(message, settings.routing)
    if result.ok:
        _finish(store, audience, p, "sent", now)
        return {**summary, "status": "sent"}
    _finish(store, audience, p, "failed", now, result.error)
    return {**summary, "status": "failed", "error": result.error}


def send_due_digests(
    store: Store, settings: Settings, now: datetime | None = None
) -> dict[str, Any]:
    """Send every audience's weekly digest that is due and not sent yet (idempotent)."""
    now = now or datetime.now(UTC)
    if not settings.insights.digest_recipients or due_period(settings, now) is None:
        return {"due": False, "digests": []}
    done = []
    for audience in pending_audiences(store, settings, now):
        try:
            done.append(send_digest(store, settings, audience, "week", now, scheduled=True))
        except Exception as exc:  # one audience's failure must not stop the others
            log.warning("digest for %s failed: %s", audience, exc)
            done.append({"audience": audience, "status": "failed", "error": str(exc)})
    return {"due": True, "digests": done}
