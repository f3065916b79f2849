"""The Scrapy project of listening: polite spiders for review sites, forums and blogs.

Each crawl runs as its own ``scrapy crawl listening`` subprocess
(:func:`spiders.launch.run_crawl`), never inside a long-lived process.
"""
