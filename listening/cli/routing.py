"""Routing commands: route, rules, inbox, notifications, alerts."""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from listening.cli.core import open_store
from listening.cli.output import console, print_json
from listening.errors import ConfigError, RoutingError
from listening.settings import Settings, get_settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "cli"


ActorOpt = Annotated[str, typer.Option("--actor", help="Who does it (kept in the audit trail).")]
TicketArg = Annotated[int, typer.Argument(help="Ticket number (see `listening inbox list`).")]

rules_app = typer.Typer(help="Check routing rules and try them on a text.", no_args_is_help=True)
inbox_app = typer.Typer(help="Work the tickets: list, show, assign, answer, close...", no_args_is_help=True)
alerts_app = typer.Typer(help="Spike alerts per brand and topic.", no_args_is_help=True)
notifications_app = typer.Typer(help="The notifications outbox: deliver, list, retry.", no_args_is_help=True)


def _rules(path: str | None, settings: Settings) -> Any:
    from listening.routing.notifiers import parse_targets
    from listening.routing.rules import load_rules
    from listening.routing.service import active_topics

    ruleset = load_rules(None if path in (None, "", "default") else path, active_topics(settings))
    ruleset.check_targets(set(parse_targets(settings.routing)))
    return ruleset


def route(
    rules: Annotated[str | None, typer.Option("--rules", help="Rules YAML (default: routing.rules_file or the shipped defaults).")] = None,
    deliver: Annotated[bool, typer.Option("--deliver/--no-deliver", help="Send pending notifications afterwards.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Turn analysed, not-yet-routed verbatims into tickets (idempotent), then notify."""
    from listening.routing.outbox import deliver_pending
    from listening.routing.service import route_pending

    settings = get_settings()
    ruleset = _rules(rules or settings.routing.rules_file, settings)
    store = open_store()
    with console.status("Routing..."):
        result: dict[str, Any] = {"routing": route_pending(store, settings, rules=ruleset)}
        if deliver:
            result["notifications"] = deliver_pending(store, settings)
    if json_out:
        print_json(result)
        return
    r = result["routing"]
    line = (
        f"Routed {r['routed']} verbatims: {r['ticketed']} tickets, {r['attached']} follow-ups, "
        f"{r['reopened']} reopened, {r['skipped']} skipped, {r['no_match']} unmatched; "
        f"not ticketed: {r['off_topic']} off topic, {r['other_language']} in another language, "
        f"{r['too_old']} too old; {r['sla_breached']} SLA breaches."
    )
    if deliver:
        n = result["notifications"]
        line += f" Notifications: {n['sent']} sent, {n['retry']} to retry, {n['dead']} dead."
    console.print(line)


@rules_app.command("check")
def rules_check(
    file: Annotated[str, typer.Argument(help="Rules YAML file ('default' for the shipped rules).")],
    json_out: JsonOpt = False,
) -> None:
    """Validate a rules file (format, topics, targets); errors name the line."""
    ruleset = _rules(file, get_settings())
    summary = {
        "file": ruleset.source,
        "rules": len(ruleset.rules),
        "ticketing": [r.name for r in ruleset.rules if r.then is not None],
        "skipping": [r.name for r in ruleset.rules if r.skip],
    }
    if json_out:
        print_json(summary)
    else:
        console.print(f"{ruleset.source}: {len(ruleset.rules)} valid rules (first match wins).")


@rules_app.command("test")
def rules_test(
    file: Annotated[str, typer.Argument(help="Rules YAML file ('default' for the shipped rules).")],
    text: Annotated[str, typer.Argument(help="The verbatim to try.")],
    brand: Annotated[str, typer.Option(help="Brand of the verbatim: own, competitor or none.")] = "own",
    source_kind: Annotated[str, typer.Option(help="Source kind: review_site, forum, blog, feed, survey, email.")] = "forum",
    rating: Annotated[float | None, typer.Option(help="Rating normalised to 0..1.")] = None,
    analysis: Annotated[str | None, typer.Option(help="Analysis as JSON instead of running the NLP models.")] = None,
    brand_name: Annotated[
        str | None,
        typer.Option(help="Brand name (and aliases, comma-separated) the relevance gate looks for; "
                     "without it the off-topic gate is not checked."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title of the verbatim (also searched for the brand).")] = None,
    published: Annotated[
        str | None, typer.Option(help="Publication date, ISO 8601 (default: now), for the age gate.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Dry run: analyse TEXT, then explain which rule matches, which relevance gate would stop
    the ticket and why (nothing is written)."""
    from listening.routing.rules import evaluate, input_from_analysis
    from listening.store.models import SOURCE_KINDS

    if brand not in ("own", "competitor", "none"):
        raise ConfigError(f"unknown brand kind {brand!r}", "use --brand own, competitor or none")
    if source_kind not in SOURCE_KINDS:
        raise ConfigError(f"unknown source kind {source_kind!r}", f"valid kinds: {', '.join(SOURCE_KINDS)}")
    settings = get_settings()
    ruleset = _rules(file, settings)
    if analysis is not None:
        try:
            result = json.loads(analysis)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--analysis is not JSON: {exc.msg}", "give a JSON object like the analyses columns") from None
        if not isinstance(result, dict):
            raise ConfigError("--analysis must be a JSON object", 'e.g. {"intent": "question"}')
    else:
        result = analyze_text(text, settings)
    inp = input_from_analysis(text, result, rating=rating, source_kind=source_kind, brand_kind=brand)
    evaluation = evaluate(ruleset, inp)
    gates = _relevance(settings, text, title, source_kind, brand_name, result, published)
    rule = evaluation.rule
    allowed = set(rule.allow) if rule is not None else set()
    stopping = [g for g in gates if g.name not in allowed]
    if rule is None:
        outcome = "no_match"
    elif rule.skip:
        outcome = "skipped"
    else:
        outcome = stopping[0].name if stopping else "ticketed"
    out = {"text": text, "analysis": result, **evaluation.to_dict(),
           "relevance": [{"gate": g.name, "reason": g.reason, "allowed_by_rule": g.name in allowed}
                         for g in gates],
           "outcome": outcome}
    if json_out:
        print_json(out)
        return
    console.print(
        f"Analysis: sentiment={inp.sentiment} intent={inp.intent} "
        f"topics={inp.topic_sentiments() or '{}'} urgency={inp.urgency} actionable={inp.actionable}"
    )
    for trace in evaluation.trace:
        mark = "[green]MATCH[/green]" if trace.matched else "[red]no[/red]"
        console.print(f"{mark} {trace.rule}")
        for check in trace.checks:
            sign = "✓" if check.passed else "✗"
            console.print(f"    {sign} {check.condition}: {check.detail}")
    for gate in gates:
        verdict = "let through by the rule" if gate.name in allowed else "stops the ticket"
        console.print(f"Relevance gate {gate.name}: {gate.reason} ({verdict}).", markup=False)
    if brand_name is None and source_kind not in settings.routing.own_source_kinds:
        console.print("Off-topic gate not checked: give --brand-name to check it.")
    if rule is None:
        console.print("No rule matches: no ticket.")
    elif rule.skip:
        console.print(f"Rule {rule.name!r} matches: skipped, no ticket.")
    elif stopping:
        console.print(f"Rule {rule.name!r} matches, but no ticket: {stopping[0].name}.")
    elif rule.then is not None:
        console.print(f"Rule {rule.name!r} matches: ticket for {rule.then.team}, {rule.then.priority}.")


def _relevance(settings: Settings, text: str, title: str | None, source_kind: str,
               brand_name: str | None, result: dict[str, Any], published: str | None) -> list[Any]:
    """The relevance gates (listening.routing.relevance) a verbatim like this would fail."""
    from datetime import UTC, datetime

    from listening.routing import relevance

    now = datetime.now(UTC)
    when = now
    if published:
        try:
            when = datetime.fromisoformat(published)
        except ValueError:
            raise ConfigError(f"--published {published!r} is not an ISO 8601 date",
                              "e.g. --published 2026-11-30 or 2026-11-30T14:00+01:00") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    gates = relevance.check(
        settings.routing, text=text, title=title, thread_title=None, source_kind=source_kind,
        brand_terms=[t.strip() for t in (brand_name or "").split(",") if t.strip()],
        language=str(result.get("language") or "") or None, published_at=when, collected_at=None,
        now=now)
    if brand_name is None:
        gates = [g for g in gates if g.name != "off_topic"]
    return gates


def analyze_text(text: str, settings: Settings) -> dict[str, Any]:
    """Analyse one text with the NLP stage (the same analyzer `listening analyze` uses)."""
    from dataclasses import asdict

    try:
        from nlp.service import get_analyzer
    except ImportError as exc:  # pragma: no cover - the NLP stage ships with the package
        raise RoutingError(f"the NLP stage is not available ({exc})", "pass --analysis JSON") from None
    [res] = get_analyzer(settings).analyze([text])
    if res.error:
        raise RoutingError(f"the text could not be analysed: {res.error}", "pass --analysis JSON instead")
    return asdict(res)


@inbox_app.command("list")
def inbox_list(
    team: Annotated[str | None, typer.Option(help="Only this team's tickets.")] = None,
    status: Annotated[list[str] | None, typer.Option(help="new, assigned, answered, closed, ignored (repeatable; default: open ones).")] = None,
    priority: Annotated[str | None, typer.Option(help="P1, P2, P3 or P4.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only tickets assigned to this person.")] = None,
    breached: Annotated[bool, typer.Option("--breached", help="Only tickets past their SLA.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many tickets.")] = 200,
    json_out: JsonOpt = False,
) -> None:
    """List tickets, most urgent first."""
    from listening.routing import inbox

    store = open_store(read_only=True)
    with store.session() as session:
        rows = inbox.list_tickets(session, team=team, status=status or None, priority=priority,
                                  assignee=assignee, breached_only=breached, limit=limit)
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print("No tickets match.")
        return
    table = Table("#", "prio", "team", "status", "assignee", "SLA due", "sla", "verbatim")
    for r in rows:
        table.add_row(str(r["id"]), r["priority"], r["team"], r["status"], r["assignee"] or "",
                      str(r["sla_due_at"] or ""), r["sla"], r["excerpt"][:70])
    console.print(table)


@inbox_app.command("show")
def inbox_show(ticket_id: TicketArg, json_out: JsonOpt = False) -> None:
    """Show a ticket: verbatim, analysis, follow-ups and audit trail."""
    from listening.routing import inbox

    store = open_store(read_only=True)
    with store.session() as session:
        data = inbox.ticket_detail(session, ticket_id)
    if json_out:
        print_json(data)
        return
    console.print(f"#{data['id']} [{data['priority']}] {data['team']} — {data['status']} "
                  f"(assignee: {data['assignee'] or '-'}, SLA due {data['sla_due_at']}, {data['sla']})")
    console.print(f"Rule: {data['rule']}  Source: {data['source']}  Brand: {data['brand']}  {data['url'] or ''}")
    console.print(data["text"], markup=False)
    for f in data["follow_ups"]:
        console.print(f"  follow-up #{f['document_id']}: {f['text'][:200]}", markup=False)
    for e in data["events"]:
        console.print(f"  {e['at']:%Y-%m-%d %H:%M} {e['actor']}: {e['action']} {e['details'] or ''}", markup=False)


def _change(action: str, ticket_id: int, json_out: bool, fn: Any, *args: Any) -> None:
    store = open_store()
    with store.session() as session:
        ticket = fn(session, ticket_id, *args)
        out = {"id": ticket.id, "status": ticket.status, "assignee": ticket.assignee, "action": action}
    if json_out:
        print_json(out)
    else:
        console.print(f"Ticket #{ticket_id}: {action} (now {out['status']}).")


@inbox_app.command("assign")
def inbox_assign(
    ticket_id: TicketArg,
    assignee: Annotated[str, typer.Argument(help="Person in charge.")],
    actor: ActorOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Assign a ticket to someone."""
    from listening.routing import inbox

    _change("assigned", ticket_id, json_out, inbox.assign, assignee, actor or _default_actor())


@inbox_app.command("answer")
def inbox_answer(
    ticket_id: TicketArg,
    note: Annotated[str, typer.Option("--note", help="What was answered (required).")],
    actor: ActorOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Record that the customer was answered (meets the SLA)."""
    from listening.routing import inbox

    _change("answered", ticket_id, json_out, inbox.answer, note, actor or _default_actor())


@inbox_app.command("close")
def inbox_close(
    ticket_id: TicketArg,
    note: Annotated[str, typer.Option("--note", help="Optional closing note.")] = "",
    actor: ActorOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Close a ticket."""
    from listening.routing import inbox

    _change("closed", ticket_id, json_out, lambda s, t: inbox.close(s, t, actor or _default_actor(), note))


@inbox_app.command("ignore")
def inbox_ignore(
    ticket_id: TicketArg,
    note: Annotated[str, typer.Option("--note", help="Why (spam, off-topic...).")] = "",
    actor: ActorOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Mark a ticket as needing no answer."""
    from listening.routing import inbox

    _change("ignored", ticket_id, json_out, lambda s, t: inbox.ignore(s, t, actor or _default_actor(), note))


@inbox_app.command("reopen")
def inbox_reopen(ticket_id: TicketArg, actor: ActorOpt = "", json_out: JsonOpt = False) -> None:
    """Reopen a closed or ignored ticket."""
    from listening.routing import inbox

    _change("reopened", ticket_id, json_out, inbox.reopen, actor or _default_actor())


@inbox_app.command("note")
def inbox_note(
    ticket_id: TicketArg,
    text: Annotated[str, typer.Argument(help="The internal note.")],
    actor: ActorOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Add an internal note to a ticket."""
    from listening.routing import inbox

    _change("noted", ticket_id, json_out, inbox.add_note, text, actor or _default_actor())


@inbox_app.command("reply")
def inbox_reply(
    ticket_id: TicketArg,
    text: Annotated[str, typer.Argument(help="The public reply, posted under the customer's message.")],
    actor: ActorOpt = "",
    deliver: Annotated[bool, typer.Option("--deliver/--no-deliver", help="Post it now through the outbox.")] = True,
    json_out: JsonOpt = False,
) -> None:
    """Post a public reply on the platform of the ticket's verbatim (outbox: retried, never twice)."""
    from listening.collection.channels.replies import queue_reply
    from listening.routing.outbox import deliver_pending

    settings = get_settings()
    store = open_store()
    with store.session() as session:
        result: dict[str, Any] = queue_reply(session, ticket_id, text, actor or _default_actor())
    if deliver and result["status"] == "pending" and not result.get("duplicate"):
        result["notifications"] = deliver_pending(store, settings)
    if json_out:
        print_json(result)
        return
    if result["status"] == "deep_link":
        console.print(f"{result.get('url') or 'the platform'} has no reply API: answer there, then "
                      f"`listening inbox answer {ticket_id}`.", markup=False)
    elif result.get("duplicate"):
        console.print(f"This reply to #{ticket_id} was queued already ({result['status']}): not sent twice.")
    else:
        sent = result.get("notifications", {}).get("sent", 0)
        console.print(f"Reply to #{ticket_id} {'posted' if sent else 'queued (the outbox retries it)'}.")


@alerts_app.command("check")
def alerts_check(json_out: JsonOpt = False) -> None:
    """Compare recent volume and negative share with the baseline; open or resolve alerts."""
    from listening.routing.alerts import check_alerts
    from listening.routing.outbox import deliver_pending

    settings = get_settings()
    store = open_store()
    result = check_alerts(store, settings)
    result["notifications"] = deliver_pending(store, settings)
    if json_out:
        print_json(result)
        return
    for a in result["opened"]:
        console.print(f"[bold red]ALERT[/bold red] {a['kind']} spike on {a['topic']} for {a['brand']}: "
                      f"{a['recent_count']} verbatims (baseline {a['baseline']:.2f}, score {a['score']})")
        for v in a["top_verbatims"]:
            console.print(f"    - {v['excerpt'][:120]}", markup=False)
    console.print(f"{len(result['opened'])} new alerts, {result['ongoing']} ongoing, {result['resolved']} resolved.")


@alerts_app.command("list")
def alerts_list(
    status: Annotated[str, typer.Option(help="open, resolved or all.")] = "open",
    json_out: JsonOpt = False,
) -> None:
    """List spike alerts."""
    from listening.routing.alerts import list_alerts

    if status not in ("open", "resolved", "all"):
        raise ConfigError(f"unknown status {status!r}", "use open, resolved or all")
    store = open_store(read_only=True)
    with store.session() as session:
        rows = list_alerts(session, None if status == "all" else status)
    if json_out:
        print_json(rows)
        return
    for a in rows:
        console.print(f"#{a['id']} {a['status']} {a['kind']} {a['topic']} {a['brand']}: {a['recent_count']} "
                      f"(baseline {a['baseline']:.2f}) since {a['opened_at']:%Y-%m-%d %H:%M}")
    if not rows:
        console.print("No alerts.")


@notifications_app.command("deliver")
def notifications_deliver(json_out: JsonOpt = False) -> None:
    """Send due notifications (retries with backoff; dead-letter after routing.max_attempts)."""
    from listening.routing.outbox import deliver_pending

    result = deliver_pending(open_store(), get_settings())
    if json_out:
        print_json(result)
    else:
        console.print(f"{result['sent']} sent, {result['retry']} to retry, {result['dead']} dead, "
                      f"{result['pending']} pending.")
        for err in result["errors"]:
            console.print(f"  {err}", markup=False)


@notifications_app.command("list")
def notifications_list(
    status: Annotated[str | None, typer.Option(help="pending, sent or dead.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List notifications with their delivery state."""
    from listening.routing.outbox import list_notifications

    store = open_store(read_only=True)
    with store.session() as session:
        rows = list_notifications(session, status)
    if json_out:
        print_json(rows)
        return
    table = Table("#", "event", "target", "status", "attempts", "last error")
    for r in rows:
        table.add_row(str(r["id"]), r["event"], r["target"], r["status"], str(r["attempts"]), (r["last_error"] or "")[:60])
    console.print(table)


@notifications_app.command("retry")
def notifications_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Notification numbers (default: all dead ones).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Put dead-lettered notifications back in the queue (after fixing the target)."""
    from listening.routing.outbox import retry_dead

    count = retry_dead(open_store(), ids or None)
    if json_out:
        print_json({"requeued": count})
    else:
        console.print(f"{count} notifications queued again; `listening notifications deliver` sends them.")


def register(app: typer.Typer) -> None:
    app.command()(route)
    app.add_typer(rules_app, name="rules")
    app.add_typer(inbox_app, name="inbox")
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(notifications_app, name="notifications")


