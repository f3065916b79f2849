"""The read API: FastAPI over :mod:`listening.queries`, the dashboard's read layer.

Every ``/v1`` endpoint but ``/v1/health`` needs ``Authorization: Bearer <token>``
(:mod:`listening.api.tokens`); the token's role decides which endpoints it may read
(:data:`ROLE_AREAS`) and each token has its own sliding-window rate limit. There is no
write endpoint. Every refusal is JSON ``{"error": {"code", "message", "hint"}}`` with
a 4xx status; an unexpected failure is a 500 with the same shape (logged, never sent).
"""

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from listening import __version__
from listening.api import params, serialize
from listening.api.tokens import ROLES, TokenInfo, check_token
from listening.errors import ApiError, ListeningError, StoreError
from listening.queries import pages, reads
from listening.queries.sql import PRIORITIES, TICKET_STATUSES
from listening.settings import Settings, get_settings
from listening.taxonomy import TopicSet, load_topics

log = logging.getLogger(__name__)

ROLE_AREAS: dict[str, tuple[str, ...]] = {
    "verbatims": ROLES,
    "aggregates": ROLES,
    "alerts": ROLES,
    "tickets": ("support", "admin"),
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": serialize.ErrorBody, "description": what}
    for status, what in (
        (401, "Missing, unknown, revoked or expired token"),
        (403, "The token's role may not read this"),
        (422, "A parameter is invalid"),
        (429, "Rate limit reached (see Retry-After)"),
    )
}


Names = Annotated[list[str] | None, Query(description="One or more (repeat or comma-separate).")]
Day = Annotated[
    date | None,
    Query(description="A calendar day (YYYY-MM-DD) in the store's time zone (LISTENING_TIMEZONE)."),
]


@dataclass
class FilterQuery:
    """The verbatim filters shared by the list and aggregate endpoints (query parameters)."""

    brand: Names = None
    source: Names = None
    kind: Names = None
    topic: Names = None
    sentiment: Names = None
    language: Names = None
    since: Day = None
    until: Day = None


class RateLimited(ApiError):
    """Too many requests for one token; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(
            f"rate limit of {limit} requests per minute reached",
            f"retry after {retry_after} s (Retry-After header)",
            status=429,
        )
        self.retry_after = retry_after


class SlidingWindow:
    """At most ``limit`` hits per key in any ``window`` seconds (in this process)."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[Any, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: Any) -> float | None:
        """Record a hit; None when allowed, else the seconds until one would be."""
        if self.limit <= 0:
            return None
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return None


def _error(
    status: int, code: str, message: str, hint: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "hint": hint}}
    return JSONResponse(body, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return _error(exc.status, exc.code, exc.message, exc.hint, headers)

    @app.exception_handler(ListeningError)
    async def listening_error(_request: Request, exc: ListeningError) -> JSONResponse:
        return _error(503 if isinstance(exc, StoreError) else 500, exc.code, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "query")
            got = err.get("input")
            shown = f" (got {got!r})" if isinstance(got, str | int | float) else ""
            problems.append(f"{where}: {err.get('msg', 'invalid')}{shown}")
        return _error(
            422,
            ApiError.code,
            "invalid parameter: " + "; ".join(problems),
            f"see {request.app.docs_url} for the parameters of {request.url.path}",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        hint = f"the endpoints are listed at {request.app.docs_url}"
        if exc.status_code == 405:
            hint = "the API is read-only: use GET"
        return _error(
            exc.status_code,
            ApiError.code,
            f"{exc.detail}: {request.method} {request.url.path}",
            hint,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("API request %s %s failed", request.method, request.url.path)
        return _error(
            500,
            ApiError.code,
            "internal error while answering the request",
            "the API log has the details; retry later",
        )


def create_app(database_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    """The API on the store at ``database_url`` (default: the settings' store)."""
    settings = settings or get_settings()
    url = database_url or settings.database_url
    conf = settings.api
    limiter = SlidingWindow(conf.rate_limit_per_minute)
    bearer = HTTPBearer(auto_error=False, description="A token from `listening api tokens create`.")
    default_lang = settings.dashboard.language

    app = FastAPI(
        title="listening read API",
        version=__version__,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
        description="Read-only access to verbatims, their analyses, aggregates, tickets and "
        "alerts (docs/API.md).",
    )
    app.state.limiter = limiter
    _install_error_handlers(app)

    def taxonomy() -> TopicSet:
        return load_topics(settings.nlp.taxonomy or None)

    def allowed(area: str) -> Callable[..., TokenInfo]:
        def check(
            creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> TokenInfo:
            if creds is None or not creds.credentials:
                raise ApiError(
                    "missing API token",
                    "send the header `Authorization: Bearer "
                    "<token>` (`listening api tokens create` makes one)",
                    status=401,
                )
            with reads.write_store(url).session() as session:
                info = check_token(session, creds.credentials)
            wait = limiter.hit(info.id)
            if wait is not None:
                raise RateLimited(limiter.limit, max(1, math.ceil(wait)))
            if info.role not in ROLE_AREAS[area]:
                raise ApiError(
                    f"role {info.role!r} may not read {area}",
                    f"use a token with role {' or '.join(ROLE_AREAS[area])}",
                    status=403,
                )
            return info

        return check

    def page_limit(limit: int | None) -> int:
        limit = conf.page_size if limit is None else limit
        if limit > conf.max_page_size:
            raise ApiError(
                f"limit {limit} is above the largest page ({conf.max_page_size})",
                "ask for fewer items and follow next_cursor (setting api.max_page_size)",
                status=422,
            )
        return limit

    Limit = Annotated[
        int | None, Query(ge=1, description="Items per page (default api.page_size).")
    ]
    Lang = Annotated[str, Query(pattern="^[a-z]{2}$", description="Language of topic labels.")]

    @app.get("/v1/health", response_model=serialize.Health, tags=["meta"])
    def health() -> serialize.Health:
        """Liveness and store state; needs no token."""
        problem = reads.schema_problem(url)
        return serialize.Health(
            status="ok" if problem is None else "degraded",
            version=__version__,
            store=problem or "ok",
        )

    @app.get(
        "/v1/verbatims",
        response_model=serialize.VerbatimPage,
        tags=["verbatims"],
        responses=ERROR_RESPONSES,
    )
    def verbatims(
        _token: Annotated[TokenInfo, Depends(allowed("verbatims"))],
        filters: Annotated[FilterQuery, Depends()],
        q: Annotated[str, Query(max_length=500, description="Words that must all appear.")] = "",
        cursor: Annotated[
            str | None, Query(description="next_cursor of the previous page.")
        ] = None,
        limit: Limit = None,
        lang: Lang = default_lang,
    ) -> serialize.VerbatimPage:
        """Dated verbatims with their latest analysis, newest first, a page at a time."""
        size = page_limit(limit)
        topics = taxonomy()
        f = params.filters(url, topics, **asdict(filters))
        after = params.decode_cursor(cursor) if cursor else None
        df = pages.verbatims_page(url, f, size + 1, after, q)
        more = len(df) > size
        df = df.head(size)
        last = df.iloc[-1] if more else None
        return serialize.VerbatimPage(
            items=serialize.verbatims_out(df, topics, lang),
            next_cursor=params.encode_cursor(last["published_at"], int(last["id"]))
            if last is not None
            else None,
        )

    @app.get(
        "/v1/aggregates",
        response_model=serialize.Aggregates,
        tags=["aggregates"],
        responses=ERROR_RESPONSES,
    )
    def aggregates(
        _token: Annotated[TokenInfo, Depends(allowed("aggregates"))],
        filters: Annotated[FilterQuery, Depends()],
        by: Annotated[Literal["topic", "brand", "day"], Query(description="Group by.")] = "topic",
        lang: Lang = default_lang,
    ) -> serialize.Aggregates:
        """Counts per topic, brand or day by sentiment, with net sentiment and its 95% CI."""
        topics = taxonomy()
        f = params.filters(url, topics, **asdict(filters))
        df = pages.aggregates(url, f, by)
        return serialize.Aggregates(
            by=by,
            since=f.start.isoformat(),
            until=f.end.isoformat(),
            items=serialize.aggregates_out(df, by, topics, lang),
        )

    @app.get(
        "/v1/tickets",
        response_model=list[serialize.TicketOut],
        tags=["tickets"],
        responses=ERROR_RESPONSES,
    )
    def tickets(
        _token: Annotated[TokenInfo, Depends(allowed("tickets"))],
        team: Names = None,
        priority: Names = None,
        status: Names = None,
        limit: Limit = None,
    ) -> list[serialize.TicketOut]:
        """Tickets, most urgent first (priority, then SLA due date)."""
        size = page_limit(limit)
        teams = tuple(params._split(team))
        prios = params._check("priority", params._split(priority), PRIORITIES)
        statuses = params._check("status", params._split(status), TICKET_STATUSES)
        df = reads.ticket_list(
            url, teams, prios, statuses, reads.now_utc(), settings.dashboard.sla_warning_hours, size
        )
        return serialize.tickets_out(df)

    @app.get(
        "/v1/alerts",
        response_model=list[serialize.AlertOut],
        tags=["alerts"],
        responses=ERROR_RESPONSES,
    )
    def alerts(
        _token: Annotated[TokenInfo, Depends(allowed("alerts"))],
        limit: Limit = None,
        lang: Lang = default_lang,
    ) -> list[serialize.AlertOut]:
        """Open spike alerts (per brand × topic), highest score first."""
        df = reads.open_alerts(url, page_limit(limit))
        return serialize.alerts_out(df, taxonomy(), lang)

    return app
