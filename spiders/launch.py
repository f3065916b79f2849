"""Run one crawl as its own ``scrapy crawl`` subprocess and return its counts.

Twisted's reactor cannot restart, so listening never crawls inside a long-lived
process: :func:`run_crawl` writes a job file (the source and the settings), starts
``python -m scrapy crawl listening`` with ``JOBDIR`` under ``settings.data_dir`` (an
interrupted crawl resumes where it stopped; a finished one starts afresh next time),
waits for it and reads the result file written by the item pipeline.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from listening.collection.engines import FORUM_ENGINES
from listening.config.collection import CollectionSettings
from listening.errors import CollectionError
from listening.settings import Settings
from listening.store.models import Source

log = logging.getLogger(__name__)
CRAWLED_KINDS = ("review_site", "forum", "blog")
# A crawl ending for one of these reasons is complete: its JOBDIR is removed so the next
# run starts afresh (Scrapy's JOBDIR would otherwise skip every URL already seen).
COMPLETE_REASONS = ("finished", "blocked", "closespider_pagecount", "closespider_itemcount")
LOG_TAIL_LINES = 5


def crawler_settings(cfg: CollectionSettings) -> dict[str, Any]:
    """Scrapy settings derived from listening's collection settings."""
    return {
        "USER_AGENT": f"{cfg.crawl_user_agent} (+{cfg.crawl_contact})",
        "CONCURRENT_REQUESTS_PER_DOMAIN": cfg.crawl_concurrency_per_domain,
        "DOWNLOAD_DELAY": cfg.crawl_download_delay_s,
        "DOWNLOAD_DELAY_JITTER": 0.5 if cfg.crawl_download_delay_s > 0 else 0.0,
        "AUTOTHROTTLE_START_DELAY": max(cfg.crawl_download_delay_s, 0.01),
        "DOWNLOAD_TIMEOUT": cfg.crawl_timeout_s,
        "RETRY_TIMES": cfg.crawl_retry_times,
        "LISTENING_RETRY_BACKOFF_S": cfg.crawl_retry_backoff_s,
        "CLOSESPIDER_PAGECOUNT": cfg.crawl_max_pages,
        "CLOSESPIDER_TIMEOUT": int(cfg.crawl_max_minutes * 60),
        "DEPTH_LIMIT": cfg.crawl_max_depth,
        "DOWNLOAD_MAXSIZE": cfg.crawl_max_page_bytes,
        "DOWNLOAD_WARNSIZE": max(cfg.crawl_max_page_bytes // 2, 10_000),
        "MEMUSAGE_LIMIT_MB": cfg.crawl_memory_limit_mb,
    }


def crawl_dir(settings: Settings, source_id: int) -> Path:
    return Path(settings.data_dir).resolve() / "crawls" / f"source-{source_id}"


def run_crawl(settings: Settings, source: Source) -> dict[str, Any]:
    """Crawl ``source`` in a ``scrapy crawl`` subprocess; returns counts, errors, blocked state."""
    if source.kind not in CRAWLED_KINDS:
        raise CollectionError(
            f"source {source.name!r} has kind {source.kind!r}, which is not crawled",
            f"spiders crawl kinds {', '.join(CRAWLED_KINDS)}",
        )
    check_source_settings(source)
    folder = crawl_dir(settings, source.id)
    folder.mkdir(parents=True, exist_ok=True)
    job_file, result_file, log_file = (
        folder / "job.json",
        folder / "result.json",
        folder / "crawl.log",
    )
    jobdir = folder / "job"
    result_file.unlink(missing_ok=True)
    job = {
        "source": {
            "id": source.id,
            "name": source.name,
            "kind": source.kind,
            "url": source.url,
            "settings": source.settings or {},
        },
        "settings": settings.model_dump(mode="json"),
        "validators": (source.state or {}).get("http_validators") or {},
    }
    job_file.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    command = [sys.executable, "-m", "scrapy", "crawl", "listening", "-a", f"job={job_file}"]
    scrapy_settings = {
        **crawler_settings(settings.collection),
        "JOBDIR": str(jobdir),
        "LISTENING_RESULT_FILE": str(result_file),
        "LOG_FILE": str(log_file),
        "LOG_FILE_APPEND": False,
    }
    for key, value in scrapy_settings.items():
        command += ["-s", f"{key}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "spiders.settings"}
    timeout = settings.collection.crawl_max_minutes * 60 + 120
    try:
        completed = subprocess.run(
            command,
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        job_file.unlink(missing_ok=True)
        return _failed(
            f"the crawl of {source.name!r} took longer than {timeout:.0f} s and was stopped",
            log_file,
        )
    job_file.unlink(missing_ok=True)  # holds the settings (salt, database URL): not left on disk
    if not result_file.exists():
        detail = (completed.stderr or "").strip().splitlines()[-LOG_TAIL_LINES:]
        return _failed(
            f"the crawl process of {source.name!r} exited with code {completed.returncode} "
            f"without a result: {' | '.join(detail) or 'no output'}",
            log_file,
        )
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    if result.get("finish_reason") in COMPLETE_REASONS:
        shutil.rmtree(jobdir, ignore_errors=True)
    result["log_file"] = str(log_file)
    return result


def check_source_settings(source: Source) -> None:
    """Refuse, before starting a process, settings the spider could not use."""
    options = source.settings or {}
    where = f"source {source.name!r}"
    for pattern in options.get("url_patterns") or []:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CollectionError(
                f"{where}: url_patterns entry {pattern!r} is not a valid regular expression ({exc})",
                "fix the pattern in the source's settings",
            ) from None
    engine = options.get("forum_engine")
    if engine is not None and engine not in FORUM_ENGINES:
        raise CollectionError(
            f"{where}: unknown forum_engine {engine!r}",
            f"valid engines: {', '.join(FORUM_ENGINES)}",
        )
    discover = options.get("discover")
    if discover is not None and discover not in ("sitemap", "feed"):
        raise CollectionError(
            f"{where}: unknown discover {discover!r}", "valid values: sitemap, feed"
        )
    selectors = options.get("selectors")
    if selectors is not None and (not isinstance(selectors, dict) or not selectors.get("item")):
        raise CollectionError(
            f"{where}: selectors must be a mapping with at least an 'item' selector",
            "see docs/COLLECTION.md (source settings understood by the spiders)",
        )
    for key, value in (selectors or {}).items():
        if key in SELECTOR_KEYS and isinstance(value, str) and value and not value.startswith("@"):
            _check_selector(where, key, value)
    if options.get("next_selector"):
        _check_selector(where, "next_selector", str(options["next_selector"]).split("::")[0])


SELECTOR_KEYS = (
    "item",
    "author",
    "date",
    "body",
    "title",
    "rating",
    "remove",
    "position",
    "thread_title",
)


def _check_selector(where: str, key: str, value: str) -> None:
    from cssselect import GenericTranslator
    from lxml import etree

    try:
        if value.startswith(("/", "./")):
            etree.XPath(value, namespaces={"re": "http://exslt.org/regular-expressions"})
        else:
            GenericTranslator().css_to_xpath(value)
    except Exception as exc:  # cssselect.SelectorError, lxml.etree.XPathSyntaxError
        raise CollectionError(
            f"{where}: {key} selector {value!r} is invalid ({exc})",
            "give a CSS selector (div.post) or an XPath starting with .// or /",
        ) from None


def _failed(message: str, log_file: Path) -> dict[str, Any]:
    log.warning("%s (log: %s)", message, log_file)
    return {
        "new": 0,
        "updated": 0,
        "duplicate": 0,
        "failed": 0,
        "errors": [f"{message}; see {log_file}"],
        "blocked": False,
        "blocked_reason": None,
        "log_file": str(log_file),
    }
