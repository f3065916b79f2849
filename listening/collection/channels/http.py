"""The HTTP layer every channel shares: auth, JSON, rate limits, blocking on 401/403.

- the token goes where the platform wants it (``Authorization: Bearer``, or an API-key
  header such as YouTube's ``X-Goog-Api-Key``: never in a URL, so never in a log line or
  an error message);
- 429 (and a 403 that says the quota is spent) is a rate limit: the wait comes from
  ``Retry-After`` (seconds or an HTTP date) or the platform's reset header
  (``x-rate-limit-reset``, ``x-ratelimit-reset``, ``ratelimit-reset``); a wait up to
  ``collection.channel_max_wait_s`` is slept then retried, a longer one stops the run with
  :class:`RateLimited` (what was fetched is kept, the cursor is not moved past it);
- 401 and 403 raise :class:`~listening.collection.SourceBlockedError` with the platform's
  own message: the source is marked blocked with the reason until its token is fixed;
- 5xx and timeouts of a GET are retried twice, then a :class:`CollectionError` (a POST is
  not: the outbox retries it with backoff, so a reply is not posted twice by this layer);
- a body that is not JSON is a :class:`CollectionError` naming the URL, never a crash.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from listening.collection import SourceBlockedError
from listening.errors import CollectionError

RESET_HEADERS = ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset")
REMAINING_HEADERS = ("x-rate-limit-remaining", "x-ratelimit-remaining", "ratelimit-remaining")
QUOTA_WORDS = ("quotaexceeded", "ratelimitexceeded", "rate limit", "too many requests")


class RateLimited(CollectionError):
    """The platform asks to wait longer than we are willing to: stop, resume next run."""

    def __init__(self, message: str, hint: str, until: datetime) -> None:
        super().__init__(message, hint)
        self.until = until


def wait_seconds(headers: httpx.Headers, now: float | None = None) -> float | None:
    """Seconds to wait according to ``Retry-After`` or a platform reset header."""
    now = time.time() if now is None else now
    retry_after = headers.get("retry-after")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after)
        try:
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
        except (TypeError, ValueError):
            pass
    for name in RESET_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:  # Mastodon sends an ISO date
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return max(0.0, when.timestamp() - now)
        # an epoch (X, Bluesky) or a number of seconds (Reddit)
        return max(0.0, number - now) if number > 1_000_000_000 else number
    return None


def api_message(response: httpx.Response) -> str:
    """The platform's own error text, shortened (no token can be in it: we never echo URLs)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err.get("status") or err)[:200]
        for key in ("error_description", "message", "detail", "title", "error"):
            if body.get(key):
                return str(body[key])[:200]
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            return str(first.get("message") if isinstance(first, dict) else first)[:200]
    return json.dumps(body)[:200]


class ChannelHTTP:
    """GET/POST JSON for one connector and source, with its auth and rate-limit rules."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        kind: str,
        base_url: str,
        auth: str,
        token: str | None,
        max_wait_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.kind = kind
        self.base_url = base_url.rstrip("/") + "/"
        self.auth = auth
        self.token = token
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.requests = 0
        self.exhausted = False  # the platform said no request is left in this window

    def url(self, path: str) -> str:
        return (
            path
            if path.startswith(("http://", "https://"))
            else urljoin(self.base_url, path.lstrip("/"))
        )

    def _auth(self, params: dict[str, Any], headers: dict[str, str]) -> None:
        if not self.token:
            return
        if self.auth == "bearer":
            headers.setdefault("Authorization", f"Bearer {self.token}")
        elif self.auth.startswith("header:"):  # an API key kept out of URLs (and so of logs)
            headers.setdefault(self.auth.split(":", 1)[1], self.token)
        elif self.auth.startswith("query:"):
            params.setdefault(self.auth.split(":", 1)[1], self.token)

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        json_body: Any = None,
        form: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Any, httpx.Response]:
        """The decoded JSON body and the response; errors as documented above."""
        url = self.url(path)
        shown = url.split("?", 1)[0]
        query = {k: v for k, v in (params or {}).items() if v is not None}
        head = dict(headers or {})
        self._auth(query, head)
        server_errors = limited = 0
        retries = 2 if method == "GET" else 0  # a POST is retried by the outbox, with backoff
        while True:
            self.requests += 1
            try:
                response = self.client.request(
                    method, url, params=query or None, json=json_body, data=form, headers=head
                )
            except httpx.TimeoutException:
                server_errors += 1
                if server_errors <= retries:
                    continue
                raise CollectionError(
                    f"{self.kind}: timed out calling {shown}",
                    "the platform is slow or down; the next run retries",
                ) from None
            except httpx.HTTPError as exc:
                raise CollectionError(
                    f"{self.kind}: cannot reach {shown}: {type(exc).__name__}",
                    "check the base URL and the network",
                ) from None
            status = response.status_code
            if status == 429 or (status == 403 and self._is_quota(response)):
                limited += 1
                self._rate_limited(response, shown, give_up=limited > 3)
                continue
            if status in (401, 403):
                raise SourceBlockedError(
                    f"{self.kind} refused the credentials (HTTP {status} from {shown}: "
                    f"{api_message(response)})",
                    "the token is missing, expired or lacks a permission: renew it in the "
                    "source settings (or LISTENING_COLLECTION__CHANNEL_TOKENS) and run the source again",
                )
            if status >= 500:
                server_errors += 1
                if server_errors <= retries:
                    self.sleep(min(2.0 * server_errors, self.max_wait_s))
                    continue
            if status >= 400:
                raise CollectionError(
                    f"{self.kind}: HTTP {status} from {shown}: {api_message(response)}",
                    "check the source settings (ids, handles, keywords) against docs/CHANNELS.md",
                )
            for name in REMAINING_HEADERS:
                if response.headers.get(name, "").strip() in ("0", "0.0"):
                    self.exhausted = True
            if status == 204 or not response.content:
                return None, response
            try:
                return response.json(), response
            except ValueError as exc:
                raise CollectionError(
                    f"{self.kind}: {shown} answered a body that is not JSON ({exc})",
                    "the API changed or a proxy answered; nothing was stored, the next run retries",
                ) from None

    def _is_quota(self, response: httpx.Response) -> bool:
        if any(response.headers.get(name, "").strip() == "0" for name in REMAINING_HEADERS):
            return True
        text = response.text[:2000].casefold().replace(" ", "")
        return any(word.replace(" ", "") in text for word in QUOTA_WORDS)

    def _rate_limited(self, response: httpx.Response, shown: str, give_up: bool) -> None:
        wait = wait_seconds(response.headers)
        if wait is None:
            wait = 60.0
        if wait <= self.max_wait_s and not give_up:
            self.sleep(wait)
            return
        until = datetime.fromtimestamp(time.time() + wait, tz=UTC)
        raise RateLimited(
            f"{self.kind}: rate limited by {shown} until {until.isoformat(timespec='seconds')}",
            "what was fetched is kept; the source resumes from its cursor after that time",
            until,
        )
