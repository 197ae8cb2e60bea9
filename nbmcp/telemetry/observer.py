"""One OpenTelemetry SERVER span per MCP request, and the ``mcp.server.operation.duration`` histogram.

:class:`RequestTelemetry` is an :data:`~nbmcp.protocol.engine.RequestObserver`: the engine
calls it as a request starts and calls what it returns with the answer. The span's parent is
the trace context the client put in ``params._meta`` (``traceparent``, ``tracestate``, read by
the global propagator, W3C by default); the span that was current before (an HTTP server
span, say) is then linked, as the convention asks. The span is current while the request
runs, so spans a tool opens are its children.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, TracerProvider

from nbmcp._version import __version__
from nbmcp.protocol.session import Session
from nbmcp.telemetry.conventions import (
    BUCKETS,
    DURATION,
    ERROR_TYPE,
    HTTP,
    METHOD,
    PROTOCOL_VERSION,
    STATUS_CODE,
    describe,
    metric_attributes,
    outcome,
)

__all__ = ["ACCEPTED", "RequestTelemetry", "observer_for"]

SCOPE = "nbmcp"
"""The instrumentation scope's name (its version is nbmcp's)."""

ACCEPTED = (
    "True (the global providers), a TracerProvider, a MeterProvider, "
    "or a (TracerProvider or None, MeterProvider or None) pair (None: the global one)"
)


def _remote_parent(params: Any, ambient: Context) -> Context | None:
    """The context ``params._meta`` carries, or ``None`` when it names no valid parent span."""
    meta = params.get("_meta") if isinstance(params, dict) else None
    if not isinstance(meta, dict):
        return None
    carrier = {key: value for key, value in meta.items() if isinstance(value, str)}
    if not carrier:
        return None
    try:
        extracted = propagate.extract(carrier, context=ambient)
    except (TypeError, ValueError):  # a third-party propagator choking on a client's value
        return None
    found = trace.get_current_span(extracted).get_span_context()
    if not found.is_valid or found == trace.get_current_span(ambient).get_span_context():
        return None
    return extracted


class RequestTelemetry:
    """Traces and times every MCP request of one engine.

    Args:
        tracer_provider: Where spans go; ``None``: the global provider (read per span, so
            one set later is used).
        meter_provider: Where the histogram goes; ``None``: the global provider.
        static: Attributes the transport fixes (``network.transport``, ``network.protocol.name``).
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        static: Mapping[str, str] = HTTP,
    ) -> None:
        self.tracer = trace.get_tracer(SCOPE, __version__, tracer_provider)
        meter = metrics.get_meter(SCOPE, __version__, meter_provider)
        self.duration = meter.create_histogram(
            DURATION,
            unit="s",
            description="MCP request duration as observed on the receiver from the time it was "
            "received until the result or ack is sent.",
            explicit_bucket_boundaries_advisory=list(BUCKETS),
        )
        self.static = dict(static)

    def __call__(self, msg: dict[str, Any], session: Session) -> Callable[[dict[str, Any] | None], None]:
        """Open the request's span and make it current; returns what closes it with the answer."""
        started = time.perf_counter()
        name, attributes = describe(msg, session, self.static)
        ambient = otel_context.get_current()
        parent = _remote_parent(msg.get("params"), ambient)
        links: list[Link] | None = None
        if parent is None:
            parent = ambient
        else:
            around = trace.get_current_span(ambient).get_span_context()
            if around.is_valid:
                links = [Link(around)]
        span = self.tracer.start_span(name, parent, SpanKind.SERVER, attributes, links)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        method = attributes[METHOD]

        def done(answer: dict[str, Any] | None) -> None:
            try:
                if answer is not None:
                    error_type, code, message = outcome(method, answer)
                else:  # no answer: an exception is on its way out (the server stopping)
                    exc = sys.exc_info()[1]
                    error_type, code, message = (type(exc).__qualname__ if exc else "_OTHER"), None, None
                attributes[PROTOCOL_VERSION] = session.version  # initialize negotiates it
                late: dict[str, Any] = {PROTOCOL_VERSION: session.version}
                if error_type is not None:
                    attributes[ERROR_TYPE] = late[ERROR_TYPE] = error_type
                    span.set_status(Status(StatusCode.ERROR, message))
                if code is not None:
                    attributes[STATUS_CODE] = late[STATUS_CODE] = code
                span.set_attributes(late)
                self.duration.record(time.perf_counter() - started, metric_attributes(attributes))
            finally:
                otel_context.detach(token)
                span.end()

        return done


def observer_for(setting: Any) -> RequestTelemetry:
    """The :class:`RequestTelemetry` that ``MCPServer(telemetry=setting)`` asks for.

    Raises:
        TypeError: ``setting`` is none of :data:`ACCEPTED`.
    """
    if setting is True:
        return RequestTelemetry()
    if isinstance(setting, TracerProvider):
        return RequestTelemetry(tracer_provider=setting)
    if isinstance(setting, MeterProvider):
        return RequestTelemetry(meter_provider=setting)
    if isinstance(setting, tuple) and len(setting) == 2:
        tracer_provider, meter_provider = setting
        if (tracer_provider is None or isinstance(tracer_provider, TracerProvider)) and (
            meter_provider is None or isinstance(meter_provider, MeterProvider)
        ):
            return RequestTelemetry(tracer_provider, meter_provider)
    raise TypeError(f"telemetry must be {ACCEPTED}; not {setting!r}")
