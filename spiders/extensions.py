"""Scrapy extensions of the crawl processes."""

from __future__ import annotations

import os
from pathlib import Path

from scrapy.extensions.memusage import MemoryUsage

STATM = Path("/proc/self/statm")


class CurrentMemoryUsage(MemoryUsage):
    """``MEMUSAGE_LIMIT_MB`` against the crawl's *current* resident memory.

    Scrapy's own extension reads ``ru_maxrss``, the peak RSS, which a process inherits
    across fork + exec on Linux: a crawl started by a process that holds the NLP models
    (``listening serve`` after an analysis pass: about 1 GB) began above the limit and
    stopped at once with ``memusage_exceeded``, having fetched nothing. The current RSS
    is the crawl's own.
    """

    def get_virtual_size(self) -> int:
        try:
            resident_pages = int(STATM.read_text().split()[1])
        except (OSError, IndexError, ValueError):  # not Linux: the peak, as Scrapy does
            return super().get_virtual_size()
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
