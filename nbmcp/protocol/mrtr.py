"""Input-required rounds (multi round-trip requests) of protocol 2026-07-28, by stateless replay.

Under 2026-07-28 a server cannot send a request to its client. A tool that asks something
(``ctx.elicit``, ``ctx.sample``, ``ctx.list_roots``) instead ends its round with an
``input_required`` result naming what it needs; the client answers and sends the same request
again with ``inputResponses`` and the sealed ``requestState``. The tool then runs again from the
top: every ask whose answer is known returns it at once, and the first unanswered ones end the
round again. So the same tool code serves both generations, and any worker can take the retry
(nothing waits in memory between rounds).

Asks made close together (``asyncio.gather`` of several, or Replies created before waiting)
are collected for a short settle window and asked in one round.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import Mapping
from typing import Any, Final

import orjson

from nbmcp.errors import InvalidParams, ProtocolError, ToolError
from nbmcp.protocol.input_responses import answer_fits, validate_input_responses
from nbmcp.protocol.request_state import StateSigner

__all__ = ["MRTR_METHODS", "SETTLE_SECONDS", "InputRequired", "Round"]

MRTR_METHODS: Final = frozenset({"tools/call", "prompts/get", "resources/read"})
"""The requests that may answer ``input_required`` (the specification allows no others)."""

SETTLE_SECONDS: Final = 0.01
"""How long a round waits, after its last unanswered ask, for more asks to join it."""


class InputRequired(BaseException):
    """Ends a round: the client must answer ``result["inputRequests"]`` and retry.

    A ``BaseException``, so that ``except Exception`` in a tool (or around it) lets it through.
    """

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("input required")
        self.result = result


def _digest(method: str, params: Mapping[str, Any]) -> str:
    """What a question was: an answer to another question is not reused for this one."""
    rendered = orjson.dumps([method, params], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(rendered).hexdigest()[:32]


class Round:
    """One 2026-07-28 request that may ask its client for input: the answers it carries, what it asks."""

    __slots__ = (
        "_binding",
        "_counter",
        "_handle",
        "_signer",
        "_waiters",
        "answers",
        "asked",
        "asked_before",
        "pending",
        "refusals",
        "used",
    )

    def __init__(
        self,
        signer: StateSigner,
        binding: dict[str, Any],
        answers: dict[str, Any],
        asked_before: dict[str, str] | None,
    ) -> None:
        self._signer = signer
        self._binding = binding
        self.answers = answers
        """What the client answered so far: this retry's ``inputResponses`` over the sealed ones."""
        self.asked_before = asked_before
        """What earlier rounds asked (key -> question digest); ``None`` without a ``requestState``."""
        self.asked: dict[str, str] = {}
        self.used: dict[str, Any] = {}
        self.pending: dict[str, dict[str, Any]] = {}
        self.refusals: list[ProtocolError] = []
        """The errors asks raised (a missing capability, an answer of the wrong kind): the
        request fails with one as a JSON-RPC error instead of a tool error."""
        self._waiters: list[asyncio.Future[dict[str, Any]]] = []
        self._handle: asyncio.TimerHandle | None = None
        self._counter = itertools.count(1)

    @classmethod
    def open(
        cls,
        signer: StateSigner,
        method: str,
        params: Mapping[str, Any],
        principal_key: str | None,
    ) -> Round:
        """The round of a request: its sealed state opened and its answers validated (-32602 if not)."""
        target = params.get("uri") if method == "resources/read" else params.get("name")
        arguments = params.get("arguments")
        binding: dict[str, Any] = {
            "method": method,
            "target": str(target),
            "arguments": arguments if isinstance(arguments, dict) else None,
            "principal_key": principal_key,
        }
        responses = validate_input_responses(params.get("inputResponses"))
        token = params.get("requestState")
        if token is None:
            return cls(signer, binding, responses, None)
        sealed = signer.open(token, **binding)
        known = {k: v for k, v in responses.items() if k in sealed.asked}  # unasked extras are ignored
        return cls(signer, binding, {**sealed.answers, **known}, sealed.asked)

    def next_key(self, kind: str) -> str:
        """The key of an ask that names none: its kind and its place in call order."""
        return f"{kind}_{next(self._counter)}"

    async def ask(self, key: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The client's answer to this question, or (when unanswered) the end of the round."""
        digest = _digest(method, params)
        if self.asked.get(key, digest) != digest:  # the tool's mistake: one key, two questions
            raise ToolError(
                f"the key {key!r} names two different questions in one request; give each its own key="
            )
        answer = self.answers.get(key)
        before = self.asked_before
        self.asked[key] = digest
        if answer is not None and (before is None or before.get(key) == digest):
            if not answer_fits(method, answer):
                raise self.refuse(InvalidParams(f"inputResponses[{key!r}] is not a {method} result"))
            self.used[key] = answer
            return dict(answer)
        self.pending[key] = {"method": method, "params": params}
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        if self._handle is not None:
            self._handle.cancel()
        self._handle = asyncio.get_running_loop().call_later(SETTLE_SECONDS, self._settle)
        return await future

    def refused(self, exc: BaseException) -> bool:
        """Whether ``exc`` is an ask's refusal (then it is the request's JSON-RPC error)."""
        return any(exc is refusal for refusal in self.refusals)

    def refuse(self, exc: ProtocolError) -> ProtocolError:
        """Record ``exc`` as a refusal of this request (:meth:`refused`), and return it to raise."""
        self.refusals.append(exc)
        return exc

    def result(self) -> dict[str, Any]:
        """The ``input_required`` result: every pending ask, and the state sealing what is known."""
        state = self._signer.seal(**self._binding, answers=self.used, asked=self.asked)
        return {"resultType": "input_required", "inputRequests": dict(self.pending), "requestState": state}

    def _settle(self) -> None:
        self._handle = None
        result = self.result()
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_exception(InputRequired(result))
