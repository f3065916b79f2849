"""Item pipeline: verbatims go to the store in batches through ``ingest``.

At the end of the crawl it writes the run's result (counts, errors, blocked reason,
pages) to the file named by the ``LISTENING_RESULT_FILE`` setting, which
:func:`spiders.launch.run_crawl` reads, and keeps the HTTP validators (ETag /
Last-Modified) and the blocked state in the source's row.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from listening.collection.ingest import ingest
from listening.store import Source
from listening.store.documents import DocumentIn

log = logging.getLogger(__name__)
MAX_VALIDATORS = 5000
# why a crawl ended before it was done, said in the run's errors (``runs``, Sources page)
STOPPED = {
    "memusage_exceeded": "the crawl was stopped: it used more memory than "
    "collection.crawl_memory_limit_mb (raise it, or lower crawl_max_pages)",
    "closespider_timeout": "the crawl was stopped after collection.crawl_max_minutes; "
    "the next run resumes where it stopped",
    "shutdown": "the crawl was interrupted; the next run resumes where it stopped",
}
MAX_ERRORS = 50


class StorePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.batch: list[DocumentIn] = []
        self.counts = {"new": 0, "updated": 0, "duplicate": 0, "failed": 0}
        self.errors: list[str] = []
        self.result_file = crawler.settings.get("LISTENING_RESULT_FILE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def spider(self) -> Any:
        return self.crawler.spider

    def process_item(self, item: Any) -> Any:
        if isinstance(item, DocumentIn):
            self.batch.append(item)
            if len(self.batch) >= self.spider.listening_settings.collection.crawl_pipeline_batch:
                self.flush()
        return item

    def flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        spider = self.spider
        try:
            result = ingest(spider.store, spider.source["id"], batch, spider.listening_settings)
        except Exception as exc:  # the store is down: count the batch as failed, keep going
            log.error("ingest failed: %s", exc)
            self.counts["failed"] += len(batch)
            self.errors.append(f"ingest failed for {len(batch)} items: {exc}")
            return
        for key in self.counts:
            self.counts[key] += int(getattr(result, key, 0) or 0)
        self.errors.extend(result.errors[:MAX_ERRORS])

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        self.flush()
        blocked = bool(spider.blocked_reason)
        stopped = [STOPPED[reason]] if reason in STOPPED else []  # never a silent early stop
        result = {
            **self.counts,
            "errors": (stopped + spider.errors + self.errors)[:MAX_ERRORS],
            "blocked": blocked,
            "blocked_reason": spider.blocked_reason,
            "finish_reason": reason,
            "pages": spider.pages,
            "not_modified": spider.not_modified,
            "items": spider.items_seen,
            "stopped_incremental": spider.stopped_incremental[:10],
        }
        try:
            self._save_source_state(spider, result)
        except Exception as exc:  # never lose the result file because of the state
            result["errors"].append(f"could not save the source state: {exc}")
        if self.result_file:
            Path(self.result_file).write_text(
                json.dumps(result, ensure_ascii=False), encoding="utf-8"
            )

    def _save_source_state(self, spider: Any, result: dict[str, Any]) -> None:
        with spider.store.session() as session:
            source = session.get(Source, spider.source["id"])
            if source is None:
                return
            state = dict(source.state or {})
            validators = {**(state.get("http_validators") or {}), **spider.new_validators}
            if len(validators) > MAX_VALIDATORS:
                validators = dict(list(validators.items())[-MAX_VALIDATORS:])
            state["http_validators"] = validators
            state["last_crawl"] = {
                k: result[k] for k in ("finish_reason", "pages", "not_modified", "items")
            }
            source.state = state
            if result["blocked"]:
                source.blocked = True
                source.blocked_reason = result["blocked_reason"]
