"""Helpers of the API tests."""

from __future__ import annotations


def auth(token: str) -> dict[str, str]:
    """The header carrying an API token."""
    return {"Authorization": f"Bearer {token}"}
