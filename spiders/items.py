"""Items of the spiders: the store's own :class:`DocumentIn` dataclass.

Scrapy handles dataclass items natively (itemadapter), so the spiders yield exactly what
``listening.collection.ingest.ingest`` takes: ``external_id``, ``text``, ``url``,
``thread_id``, ``parent_id``, ``author`` (real name; pseudonymised when stored),
``title``, ``rating`` (0..1), ``published_at`` and ``raw`` (stars, raw date, post
position, merchant reply...).
"""

from listening.store.documents import DocumentIn as VerbatimItem

__all__ = ["VerbatimItem"]
