"""Settings groups, one module per stage. Assembled in :mod:`listening.settings`."""
