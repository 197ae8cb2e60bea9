"""Request limits of the guard chain: failed authentication, and the rate of each caller.

Two layers, placed around authentication by :func:`nbmcp.http.guard.default_layers`:

- :class:`FailedAuthLimitLayer` (before authentication, always on): every failed attempt to
  authenticate counts against the client's address and against the server as a whole: a 401
  from the chain to a request that offered a credential (``Authorization`` or ``X-API-Key``),
  and every 401 a door reports (``report_refusal``: the consent page's wrong owner key). A
  bare request without any credential (how OAuth clients discover the authorization server)
  guesses nothing and is not counted. An address past its limit gets 429 before any key or
  token of its request is looked at; once the whole server is past its limit, so does every
  address that has itself failed in its window (an address that never failed still gets in:
  the owner is not locked out by someone else's guessing).
- :class:`RateLimitLayer` (after authentication): at most ``rate_limit`` requests per window
  for each principal, or for each client address when there is none. ``"auto"`` (the default)
  is off while the server is local only (bound to loopback and not published) and
  :data:`~nbmcp.config.DEFAULT_RATE_LIMIT` otherwise; ``"off"`` (or ``None``) turns it off.

Both answer 429 with ``Retry-After`` (whole seconds) and a message in the door's language.
The counters live behind :class:`~nbmcp.http.rates.LimitStore` (:mod:`nbmcp.http.rates`).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from functools import lru_cache

from nbmcp.config import DEFAULT_RATE_LIMIT, ServerConfig, is_loopback
from nbmcp.http.asgi import Scope
from nbmcp.http.chain import GuardRequest, Refusal
from nbmcp.http.client_address import address_key, client_address
from nbmcp.http.rates import LimitError, LimitsStore, LimitStore, Rate, parse_rate
from nbmcp.principal import Principal

__all__ = [
    "FailedAuthLimitLayer",
    "LimitError",
    "LimitStore",
    "LimitsStore",
    "Rate",
    "RateLimitLayer",
    "active_rate",
    "caller_key",
    "check_limits",
    "local_only",
    "parse_rate",
    "request_address",
    "retry_after",
]

logger = logging.getLogger("nbmcp")

UNCOUNTED_PATHS = frozenset({"/health"})
"""Paths no limit counts or refuses (a monitor's probe must never trip a limit)."""

_ADDRESS = "nbmcp.client_address"
_PEEK_TTL = 1.0  # seconds a counter read stands for the store (a hit made here drops it at once)
_PEEK_MAX = 4096  # counter reads kept at most (a flood of addresses only costs store reads)
_ADMITTED = "nbmcp.limits.admitted"  # set once authentication let the request in
_TOTAL = "fail:*"


@lru_cache(maxsize=64)
def _loopback(host: str) -> bool:
    return is_loopback(host)


def local_only(config: ServerConfig) -> bool:
    """Whether only this machine can reach the server: bound to loopback and not published."""
    return not config.public_url and _loopback(config.host)


def active_rate(config: ServerConfig) -> Rate | None:
    """The rate limit in force now (``None``: off), from ``config.rate_limit``.

    Raises:
        LimitError: ``rate_limit`` is not ``"auto"``, ``"off"``, ``None`` or a rate.
    """
    value = config.rate_limit
    if value is None or value.strip().lower() == "off":
        return None
    if value.strip().lower() == "auto":
        return None if local_only(config) else parse_rate(DEFAULT_RATE_LIMIT)
    return parse_rate(value)


def check_limits(config: ServerConfig) -> None:
    """Read every limit setting once, so a mistake is one clear error when the server is built.

    Raises:
        LimitError: a setting that cannot be read.
    """
    active_rate(config)
    parse_rate(config.failed_auth_limit)
    parse_rate(config.failed_auth_limit_total)
    for value in config.trusted_proxies:
        try:
            ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise LimitError(
                f"trusted_proxies: {value!r} is not an address or a network (10.0.0.0/8)"
            ) from None


def request_address(scope: Scope, config: ServerConfig) -> str:
    """:func:`~nbmcp.http.client_address.client_address`, worked out once per request."""
    address: str | None = scope.get(_ADDRESS)
    if address is None:
        address = scope[_ADDRESS] = client_address(scope, config)
    return address


def caller_key(scope: Scope, config: ServerConfig, principal: Principal | None) -> str:
    """Who a per-caller limit counts: the principal, else the client's address."""
    if principal is not None:
        return principal.key
    return "addr:" + address_key(request_address(scope, config))


def retry_after(seconds: float) -> int:
    """Whole seconds for ``Retry-After``: rounded up, at least 1."""
    return max(1, math.ceil(seconds))


def too_many(message: str, wait: float, kind: str = "rate_limited") -> Refusal:
    """A 429 refusal that tells the client when to come back."""
    after = retry_after(wait)
    return Refusal(429, f"{message}; retry in {after} s", kind, [(b"retry-after", str(after).encode())])


class FailedAuthLimitLayer:
    """Refuses (429) an address, or the whole server, that failed authentication too often.

    It runs before authentication: a blocked request never has its key or token compared.
    It counts 401s only; ``config.failed_auth_limit`` per address (IPv6: per /64) and
    ``config.failed_auth_limit_total`` for the server (see the module docstring).
    """

    def __init__(self, config: ServerConfig, store: LimitStore) -> None:
        self.config = config
        self.store = store
        self._quiet_after = 0.0
        """Until when a counted failure may still block (wall clock, as the counters use)."""
        self._peeked: dict[str, tuple[int, float, float]] = {}
        """Counter reads: key -> (hits, window end, read again after); see :meth:`_peek`."""
        check_limits(config)

    def _rates(self) -> tuple[Rate, Rate]:
        config = self.config
        return parse_rate(config.failed_auth_limit), parse_rate(config.failed_auth_limit_total)

    def _key(self, request: GuardRequest) -> str:
        return "fail:" + address_key(request_address(request.scope, self.config))

    def _peek(self, key: str, rate: Rate, now: float) -> tuple[int, float]:
        """``store.peek``, read at most once a second per key while requests keep coming.

        After one failure in a window every request of that address is looked up, so the
        read is kept: the windows are fixed, so a count changes only by a hit (this layer's
        own drop the read at once) or when its window ends (the read ends with it). A shared
        store's hits made by other processes are seen within :data:`_PEEK_TTL`.
        """
        kept = self._peeked.get(key)
        if kept is not None and now < kept[2]:
            return kept[0], max(0.0, kept[1] - now)
        used, wait = self.store.peek(key, rate)
        if len(self._peeked) >= _PEEK_MAX:
            self._peeked.clear()
        self._peeked[key] = (used, now + wait, now + (min(_PEEK_TTL, wait) if wait > 0 else _PEEK_TTL))
        return used, wait

    async def check(self, request: GuardRequest) -> Refusal | None:
        now = time.time()
        if now >= self._quiet_after or request.path in UNCOUNTED_PATHS:
            return None  # no failure counted within a window: nothing to look up
        per_address, total = self._rates()
        used, wait = self._peek(self._key(request), per_address, now)
        if used >= per_address.amount:
            return too_many(
                "Too many failed authentication attempts from your address", wait, "too_many_failures"
            )
        if used:
            all_used, all_wait = self._peek(_TOTAL, total, now)
            if all_used >= total.amount:
                message = "Too many failed authentication attempts on this server"
                return too_many(message, min(wait, all_wait), "too_many_failures")
        return None

    def refused(self, request: GuardRequest, refusal: Refusal) -> None:
        """Count a failed attempt: a 401 to offered credentials, or one a door reports."""
        if refusal.status != 401:
            return
        headers = request.headers
        offered = "authorization" in headers or "x-api-key" in headers
        if not offered and not request.scope.get(_ADMITTED):  # a bare request: no guess made
            return
        per_address, total = self._rates()
        self._quiet_after = time.time() + max(per_address.seconds, total.seconds)
        key = self._key(request)
        self.store.hit(key, per_address)
        self.store.hit(_TOTAL, total)
        self._peeked.pop(key, None)
        self._peeked.pop(_TOTAL, None)


class RateLimitLayer:
    """At most ``config.rate_limit`` requests per window per principal, else per address.

    Being after authentication, it also marks each request it sees as let in: a 401 that a
    door reports later (a wrong key typed in a form) then counts as a failed attempt although
    no credential header came with it.
    """

    def __init__(self, config: ServerConfig, store: LimitStore) -> None:
        self.config = config
        self.store = store
        self._warned: str | None = None
        self._seen: tuple[str | None, str, str | None] | None = None
        self._rate_now: Rate | None = None
        check_limits(config)

    def _rate(self) -> Rate | None:
        """The rate in force, worked out again only when a setting it depends on changed."""
        config = self.config
        seen = (config.rate_limit, config.host, config.public_url)
        if seen != self._seen:
            self._rate_now = self._read_rate()
            self._seen = seen
        return self._rate_now

    def _read_rate(self) -> Rate | None:
        try:
            return active_rate(self.config)
        except LimitError as exc:  # set wrong while serving: keep limiting, say it once
            if self._warned != self.config.rate_limit:
                self._warned = self.config.rate_limit
                logger.error("nbmcp: %s; limiting at %s meanwhile", exc, DEFAULT_RATE_LIMIT)
            return parse_rate(DEFAULT_RATE_LIMIT)

    async def check(self, request: GuardRequest) -> Refusal | None:
        # Past authentication: a 401 reported from now on is a door's verdict on a credential.
        request.scope[_ADMITTED] = True
        rate = self._rate()
        if rate is None or request.path in UNCOUNTED_PATHS:
            return None
        key = "rate:" + caller_key(request.scope, self.config, request.principal)
        wait = self.store.hit(key, rate)
        if wait <= 0:
            return None
        return too_many(f"Too many requests: the limit is {rate}", wait)
