"""Queries over the store shared by the dashboard and other readers.

- :mod:`listening.queries.sql`: filters as SQL fragments with bound parameters;
- :mod:`listening.queries.reads`: aggregates and lists (DataFrames, dicts);
- :mod:`listening.queries.stats`: the statistics behind "significant" differences;
- :mod:`listening.queries.insights`: tickets and emerging themes of a period (reports).
"""
