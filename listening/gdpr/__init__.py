"""Privacy (GDPR): erasure, access requests, retention, contact masking (docs/PRIVACY.md).

- :mod:`listening.gdpr.forget`: forget a person or a verbatim (``listening privacy forget``);
- :mod:`listening.gdpr.erase`: the erasure engine shared with retention;
- :mod:`listening.gdpr.models`: the ``erasures`` table.

Author pseudonyms themselves live in :mod:`listening.privacy` (unchanged import path).
"""
