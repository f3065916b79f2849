"""The read HTTP API over :mod:`listening.queries` (docs/API.md).

- :mod:`listening.api.tokens`: the ``api_tokens`` table and token create/list/revoke/check
  (no web framework: the CLI and the store schema import it);
- :mod:`listening.api.app`: the FastAPI application (auth, roles, rate limit, errors);
- :mod:`listening.api.params`: query parameters turned into :class:`Filters` and cursors;
- :mod:`listening.api.serialize`: rows of the read layer as JSON objects.
"""
