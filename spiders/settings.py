"""Scrapy settings of the listening spiders: polite defaults.

Values that depend on listening's settings (User-Agent, delays, limits, JOBDIR) are
passed by :func:`spiders.launch.crawler_settings` on the command line (``-s``).
"""

BOT_NAME = "listening"
SPIDER_MODULES = ["spiders.spiders"]
NEWSPIDER_MODULE = "spiders.spiders"

ROBOTSTXT_OBEY = True  # always: listening never crawls what a site forbids
USER_AGENT = "listening-spider/0.1 (self-hosted social listening; polite crawler)"
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around the delay
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 5_000_000
DOWNLOAD_WARNSIZE = 2_000_000
REDIRECT_MAX_TIMES = 5
DEPTH_LIMIT = 20
CLOSESPIDER_PAGECOUNT = 200
CLOSESPIDER_TIMEOUT = 1800
MEMUSAGE_ENABLED = True
MEMUSAGE_LIMIT_MB = 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no code-execution HTTP endpoint in crawl processes
# Disabled extensions are removed outright so that their modules are not even imported
# (remote control pulls aiohttp in, telnet twisted.conch): start-up time of each crawl.
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.memdebug.MemoryDebugger": None,
    "scrapy.extensions.feedexport.FeedExporter": None,  # items go to the store, not to feeds
    # the memory limit on the crawl's current RSS, not the peak inherited from its parent
    "scrapy.extensions.memusage.MemoryUsage": None,
    "spiders.extensions.CurrentMemoryUsage": 0,
}

# Retries with exponential backoff on 5xx and timeouts; 403/429 are never retried: they
# mark the source blocked (see middlewares.BlockDetectionMiddleware).
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
LISTENING_RETRY_BACKOFF_S = 5.0
HTTPERROR_ALLOWED_CODES = [304]

# the SSRF guard again at connection time, on the address actually used (docs/SECURITY.md)
DNS_RESOLVER = "spiders.resolver.SafeResolver"

DOWNLOADER_MIDDLEWARES = {
    "spiders.middlewares.SafeTargetMiddleware": 50,  # first: before robots.txt and any download
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
    "spiders.middlewares.BackoffDelayMiddleware": 560,
    "spiders.middlewares.BlockDetectionMiddleware": 580,
    "spiders.middlewares.ConditionalRequestMiddleware": 590,
}
SPIDER_MIDDLEWARES = {"spiders.resume.UnfinishedRequestsMiddleware": 50}
ITEM_PIPELINES = {"spiders.pipelines.StorePipeline": 300}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
