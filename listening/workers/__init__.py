"""Distributed workers on Celery (optional ``workers`` extra; docs/SCALING.md).

Only :mod:`listening.workers.app` and :mod:`listening.workers.tasks` import Celery;
:mod:`listening.workers.queues` (queue names, checks, URL masking) and the core never do,
so ``listening serve`` and the SQLite default run without a broker.
"""
