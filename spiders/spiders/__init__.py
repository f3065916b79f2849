"""Spiders of the listening Scrapy project."""
