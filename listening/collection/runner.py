"""Run collectors on sources: one ``runs`` row per source run, health kept on the source.

``collect(store, settings, source_names=None, due_only=False)`` runs the named sources
(or all enabled ones, or only the due ones), each under its lock
(:mod:`listening.collection.locks`): a source another process is collecting is skipped.
Review sites, forums and blogs are crawled by the spiders (``spiders.launch.run_crawl``,
a Scrapy subprocess), up to ``collection.parallel_crawls`` at a time from a thread pool;
feeds, survey files and mailboxes by this package, in the calling thread, meanwhile. A failing
source never stops the others: its error is kept in the run and in its health
(``last_error``; 403/429 mark it ``blocked`` with the reason).

A source is due when it is enabled, not blocked, and either never ran, or its
``next_run_at`` has come (the dashboard sets it to now to enqueue a crawl), or
``last_run_at + schedule_minutes`` has passed. After a run ``next_run_at`` is set to one
interval later, minus a random jitter (``collection.schedule_jitter``) so that sources
added together drift apart.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from listening.collection import SourceBlockedError, locks
from listening.errors import CollectionError
from listening.settings import Settings
from listening.store import Run, Source, Store
from listening.store.models import CHANNEL_KINDS, SOURCE_KINDS, utcnow

log = logging.getLogger(__name__)

CRAWLED_KINDS = ("review_site", "forum", "blog")
MAX_ERRORS_KEPT = 50
COUNT_KEYS = ("new", "updated", "duplicate", "failed")
INTERRUPTED = "interrupted: the collecting process stopped before the run finished"


def is_due(source: Source, now: datetime) -> bool:
    if not source.enabled or source.blocked:
        return False
    if source.last_run_at is None:
        return True
    if source.next_run_at is not None and source.next_run_at <= now:
        return True
    return source.last_run_at + timedelta(minutes=source.schedule_minutes) <= now


def next_run(schedule_minutes: int, jitter: float, now: datetime) -> datetime:
    fraction = 1.0 - jitter * random.random()
    return now + timedelta(minutes=schedule_minutes * fraction)


def select_sources(
    store: Store, source_names: list[str] | None, due_only: bool
) -> list[tuple[int, str]]:
    """(id, name) of the sources to run, in name order; unknown names are a clear error."""
    now = utcnow()
    with store.session() as session:
        if source_names:
            found = {
                s.name: s
                for s in session.scalars(select(Source).where(Source.name.in_(source_names)))
            }
            unknown = [n for n in source_names if n not in found]
            if unknown:
                known = ", ".join(session.scalars(select(Source.name).order_by(Source.name)))
                raise CollectionError(
                    f"unknown source(s): {', '.join(unknown)}", f"known sources: {known or 'none'}"
                )
            chosen = [found[n] for n in dict.fromkeys(source_names)]
        else:
            chosen = list(session.scalars(select(Source).where(Source.enabled.is_(True))))
        if due_only:
            chosen = [s for s in chosen if is_due(s, now)]
        return sorted(((s.id, s.name) for s in chosen), key=lambda pair: pair[1])


def _dispatch(
    store: Store, settings: Settings, source_id: int, http: httpx.Client | None = None
) -> dict[str, Any]:
    """Run the collector of the source's kind; returns counts and errors."""
    with store.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise CollectionError(f"source #{source_id} was removed", "nothing to collect")
        session.expunge(source)
    if source.kind == "feed":
        from listening.collection.feeds import collect_feed

        return collect_feed(store, source_id, settings, client=http)
    if source.kind == "survey":
        from listening.collection.imports import collect_survey_source

        return collect_survey_source(store, source, settings)
    if source.kind == "email":
        from listening.collection.emails import collect_email_source

        return collect_email_source(store, source, settings)
    if source.kind in CHANNEL_KINDS:
        from listening.collection.channels.collector import collect_channel

        return collect_channel(store, source_id, settings)
    if source.kind in CRAWLED_KINDS:
        try:
            from spiders.launch import run_crawl
        except ImportError as exc:
            raise CollectionError(
                f"the spiders are not available ({exc})",
                "reinstall listening with its spiders package",
            ) from None
        result: dict[str, Any] = run_crawl(settings, source)
        return result
    raise CollectionError(
        f"source {source.name!r} has unknown kind {source.kind!r}",
        f"valid kinds: {', '.join(SOURCE_KINDS)}",
    )


def run_source(
    store: Store,
    settings: Settings,
    source_id: int,
    name: str,
    owner: str | None = None,
    dispatch: Callable[..., dict[str, Any]] = _dispatch,
    http: httpx.Client | None = None,
) -> dict[str, Any]:
    """Collect one source under its lock, recording a run and the source's health."""
    owner = owner or locks.new_owner()
    cfg = settings.collection
    if not locks.acquire(store, source_id, owner, cfg.lock_ttl_minutes):
        return {
            "source": name,
            "status": "skipped",
            "reason": "already being collected",
            **dict.fromkeys(COUNT_KEYS, 0),
            "errors": [],
        }
    started = time.monotonic()
    try:
        with store.session() as session:
            # we hold the lock: a run still marked running was cut short (process killed)
            session.execute(
                update(Run)
                .where(Run.source_id == source_id, Run.status == "running")
                .values(status="failed", finished_at=utcnow(), errors=[INTERRUPTED])
            )
            run = Run(source_id=source_id, status="running", errors=[])
            session.add(run)
            session.flush()
            run_id = run.id
        status, counts, errors, blocked_reason = "ok", dict.fromkeys(COUNT_KEYS, 0), [], None
        try:
            outcome = dispatch(store, settings, source_id, http)
            for key in COUNT_KEYS:
                counts[key] = int(outcome.get(key, 0) or 0)
            errors = [str(e) for e in outcome.get("errors", [])]
            if outcome.get("blocked"):
                status = "blocked"
                blocked_reason = str(outcome.get("blocked_reason") or "blocked by the site")
            else:
                status, errors = judge(outcome, counts, errors)
        except SourceBlockedError as exc:
            status, blocked_reason, errors = "blocked", str(exc), [str(exc)]
        except Exception as exc:  # one failing source never stops the others
            log.warning("source %s failed: %s", name, exc)
            status = "failed"
            errors = [
                str(exc) if isinstance(exc, CollectionError) else f"{type(exc).__name__}: {exc}"
            ]
        duration = time.monotonic() - started
        now = utcnow()
        with store.session() as session:
            finished = session.get(Run, run_id)
            source = session.get(Source, source_id)
            if finished is not None:
                finished.status = status
                finished.finished_at = now
                finished.duration_s = round(duration, 3)
                finished.errors = errors[:MAX_ERRORS_KEPT]
                for key in COUNT_KEYS:
                    setattr(finished, key, counts[key])
            if source is not None:
                source.last_run_at = now
                source.next_run_at = next_run(source.schedule_minutes, cfg.schedule_jitter, now)
                if status in (
                    "ok",
                    "warning",
                ):  # a blocked source run by name and now allowed is unblocked
                    source.last_success_at = now
                    source.last_error = errors[0] if errors else None
                    source.blocked = False
                    source.blocked_reason = None
                else:
                    source.last_error = errors[0] if errors else status
                if status == "blocked":
                    source.blocked = True
                    source.blocked_reason = blocked_reason
    finally:
        locks.release(store, source_id, owner)
    return {
        "source": name,
        "run_id": run_id,
        "status": status,
        **counts,
        "errors": errors[:MAX_ERRORS_KEPT],
        "duration_s": round(duration, 3),
    }


def judge(
    outcome: dict[str, Any], counts: dict[str, int], errors: list[str]
) -> tuple[str, list[str]]:
    """Status of a run that was not blocked: ``ok``, ``warning`` or ``failed``.

    A run with errors that brought nothing (a 404 or DNS failure on the source URL, a
    robots.txt refusal) failed; one with errors that still brought verbatims, one that
    fetched pages but extracted nothing from them, or one a platform's rate limit cut
    short (the next run resumes at its cursor), is a warning.
    """
    brought = sum(counts.values()) + int(outcome.get("not_modified", 0) or 0)
    if errors and outcome.get("rate_limited"):
        return "warning", errors
    if errors:
        return ("warning" if brought else "failed"), errors
    pages = int(outcome.get("pages", 0) or 0)
    if pages and not int(outcome.get("items", 0) or 0) and not counts["failed"]:
        return "warning", [
            f"{pages} page(s) fetched but no verbatim extracted: check the source URL and its "
            "selectors (docs/COLLECTION.md)"
        ]
    return "ok", errors


def _crashed(name: str, exc: BaseException) -> dict[str, Any]:
    """The result of a source whose run could not even be recorded (store unreachable...)."""
    log.warning("source %s could not be run: %s", name, exc)
    return {
        "source": name,
        "status": "failed",
        **dict.fromkeys(COUNT_KEYS, 0),
        "errors": [f"{type(exc).__name__}: {exc}"],
    }


def collect(
    store: Store,
    settings: Settings,
    source_names: list[str] | None = None,
    due_only: bool = False,
    progress: Callable[[str, dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Collect the chosen sources; returns per-source results (in name order) and totals.

    Crawled sources run in up to ``collection.parallel_crawls`` threads, each waiting on
    its own ``scrapy crawl`` subprocess; the other sources run in this thread meanwhile.
    ``progress`` is always called from this thread, as each source finishes.
    """
    chosen = select_sources(store, source_names, due_only)
    owner = locks.new_owner()
    with store.session() as session:
        kinds: dict[int, str] = {
            sid: kind for sid, kind in session.execute(select(Source.id, Source.kind))
        }
    crawls = deque(pair for pair in chosen if kinds.get(pair[0]) in CRAWLED_KINDS)
    others = deque(pair for pair in chosen if kinds.get(pair[0]) not in CRAWLED_KINDS)
    results: dict[str, dict[str, Any]] = {}

    def stopped() -> bool:
        return should_stop is not None and should_stop()

    def record(name: str, result: dict[str, Any]) -> None:
        results[name] = result
        if progress is not None:
            progress(name, result)

    from listening.collection.feeds import make_client

    running: dict[Future[dict[str, Any]], str] = {}
    with (
        make_client(settings) as http,  # one connection pool shared by the feed sources
        ThreadPoolExecutor(
            max_workers=settings.collection.parallel_crawls, thread_name_prefix="crawl"
        ) as pool,
    ):

        def start_crawls() -> None:
            while crawls and len(running) < settings.collection.parallel_crawls and not stopped():
                source_id, name = crawls.popleft()
                future = pool.submit(run_source, store, settings, source_id, name, owner=owner)
                running[future] = name

        def collect_finished(block: bool) -> None:
            done, _ = wait(list(running), timeout=None if block else 0, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                try:
                    record(name, future.result())
                except Exception as exc:  # one failing source never stops the others
                    record(name, _crashed(name, exc))

        start_crawls()
        while others and not stopped():
            source_id, name = others.popleft()
            try:
                result = run_source(store, settings, source_id, name, owner=owner, http=http)
            except Exception as exc:
                result = _crashed(name, exc)
            record(name, result)
            if running:
                collect_finished(block=False)
                start_crawls()
        while running:
            collect_finished(block=True)
            start_crawls()
    ordered = [results[name] for _id, name in chosen if name in results]
    totals = {key: sum(int(r.get(key, 0)) for r in ordered) for key in COUNT_KEYS}
    return {
        "sources": ordered,
        **totals,
        "ran": sum(r["status"] != "skipped" for r in ordered),
        "skipped": sum(r["status"] == "skipped" for r in ordered),
        "failed_sources": sum(r["status"] in ("failed", "blocked") for r in ordered),
        "warning_sources": sum(r["status"] == "warning" for r in ordered),
    }
