"""Settings of the collection stage (spiders, feeds, imports)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CollectionSettings(BaseModel):
    """``LISTENING_COLLECTION__*``: how sources are crawled and verbatims normalised."""

    languages: list[str] = Field(
        default=["fr", "en"],
        description="ISO 639-1 codes the language detector may answer; anything else is 'und'.",
    )
    author_salt: str = Field(
        json_schema_extra={"secret": True},
        default="change-me",
        description="Secret salt for author pseudonyms; set your own so pseudonyms cannot be reversed.",
    )

    # --- normalisation and ingestion (listening.collection.normalize / ingest) ---
    language_min_letters: int = Field(
        default=8,
        ge=0,
        description="Fewer letters than this (or a single word) gives language 'und' (too short to tell).",
    )
    naive_timezone: str = Field(
        default="Europe/Paris",
        description="Time zone assumed for dates written without one (stored as UTC).",
    )
    ingest_batch_size: int = Field(
        default=200,
        ge=1,
        description="Verbatims written per transaction; an interrupted run keeps the committed batches.",
    )
    near_duplicate_threshold: float = Field(
        default=0.85,
        gt=0,
        le=1,
        description="Similarity (0-1, MinHash Jaccard then rapidfuzz ratio) above which a verbatim is "
        "linked as a near-duplicate of an earlier one of the same brand.",
    )
    near_duplicate_min_words: int = Field(
        default=6,
        ge=1,
        description="Verbatims shorter than this many words are never linked as near-duplicates.",
    )
    near_duplicate_days: int = Field(
        default=90,
        ge=1,
        description="Only verbatims collected in this many past days are compared for near-duplicates.",
    )
    # --- feeds (listening.collection.feeds) ---
    feed_timeout_s: float = Field(
        default=20.0, gt=0, description="Connect/read timeout in seconds when fetching a feed."
    )
    feed_max_bytes: int = Field(
        default=10_000_000, ge=1024, description="Feeds larger than this many bytes are refused."
    )
    feed_user_agent: str = Field(
        default="listening-feeds/0.1 (+https://github.com/listening; self-hosted social listening)",
        description="User-Agent sent when fetching feeds.",
    )
    # --- channels: social networks, app stores, review platforms (listening.collection.channels) ---
    channel_tokens: dict[str, str] = Field(
        json_schema_extra={"secret": "tail"},
        default_factory=dict,
        description='Token or API key per channel kind ({"youtube": "KEY", "x": "BEARER"}), '
        "used when a source has no 'token' of its own. Never printed unmasked.",
    )
    channel_base_urls: dict[str, str] = Field(
        default_factory=dict,
        description="API base URL per channel kind (a proxy, a test server); a source's own "
        "'base_url' wins, Mastodon defaults to the source URL's instance.",
    )
    channel_max_pages: int = Field(
        default=20, ge=1, description="API pages fetched at most per run of one channel source."
    )
    channel_max_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="A rate limit asking to wait up to this many seconds is waited out; a longer "
        "one stops the run, which resumes from its cursor after the limit.",
    )
    channel_timeout_s: float = Field(
        default=20.0, gt=0, description="Connect/read timeout in seconds of a channel API call."
    )
    # --- scheduling (listening.collection.runner / scheduler, `listening serve`) ---
    serve_poll_seconds: float = Field(
        default=60.0, gt=0, description="Seconds `listening serve` waits between two passes."
    )
    schedule_jitter: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Random extra delay added to each source's next run, as a fraction of its interval.",
    )
    parallel_crawls: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Crawl subprocesses (review sites, forums, blogs) run at the same time by one "
        "`collect`; each source still has one run at a time (its lock).",
    )
    lock_ttl_minutes: int = Field(
        default=120,
        ge=1,
        description="A run's lock on its source expires after this many minutes (a crashed run "
        "cannot block its source forever).",
    )
    # --- spiders (spiders/, `scrapy crawl` subprocesses run by spiders.launch.run_crawl) ---
    crawl_user_agent: str = Field(
        default="listening-spider/0.1 (self-hosted social listening; polite crawler)",
        description="User-Agent of the spiders; the contact (crawl_contact) is appended.",
    )
    crawl_contact: str = Field(
        default="https://github.com/listening/listening",
        description="Where site owners can reach you (URL or e-mail), sent in the User-Agent.",
    )
    crawl_concurrency_per_domain: int = Field(
        default=1,
        ge=1,
        le=2,
        description="Concurrent requests per domain (1 or 2: polite by design).",
    )
    crawl_download_delay_s: float = Field(
        default=2.0,
        ge=0,
        description="Minimum seconds between two requests to one domain (AutoThrottle adapts above it).",
    )
    crawl_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds before a page request times out (then retried)."
    )
    crawl_retry_times: int = Field(
        default=2, ge=0, description="Retries of a page after a 5xx answer or a timeout."
    )
    crawl_retry_backoff_s: float = Field(
        default=5.0,
        ge=0,
        description="First retry waits this many seconds, each next one twice as long.",
    )
    crawl_max_pages: int = Field(
        default=200, ge=1, description="Pages fetched at most per crawl of one source."
    )
    crawl_max_depth: int = Field(
        default=20,
        ge=1,
        description="Links followed at most from the start page (pagination depth).",
    )
    crawl_max_page_bytes: int = Field(
        default=5_000_000, ge=10_000, description="Pages larger than this many bytes are dropped."
    )
    crawl_memory_limit_mb: int = Field(
        default=1024, ge=64, description="A crawl process using more memory than this is stopped."
    )
    crawl_max_minutes: float = Field(
        default=30.0, gt=0, description="A crawl of one source is stopped after this many minutes."
    )
    crawl_pipeline_batch: int = Field(
        default=100,
        ge=1,
        description="Items the spider's pipeline hands to ingest() at once.",
    )
