"""OpenTelemetry for MCP requests (the optional extra ``nbmcp[otel]``), off unless asked for.

``MCPServer(telemetry=...)`` and ``nbmcp serve --otel`` call :func:`install`, which hangs a
:class:`~nbmcp.telemetry.observer.RequestTelemetry` on the engine
(:attr:`~nbmcp.protocol.Engine.observer`): one SERVER span per request, named and attributed
as the OpenTelemetry semantic conventions for MCP say, and the
``mcp.server.operation.duration`` histogram. Nothing imports this package, or OpenTelemetry,
until then; with telemetry off a request costs one ``None`` check.

Layer: beside :mod:`nbmcp.monitor`, above :mod:`nbmcp.protocol` (which never imports it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbmcp.telemetry.environment import configure_from_environment

if TYPE_CHECKING:
    from nbmcp.protocol.engine import Engine

__all__ = ["configure_from_environment", "install"]


def install(engine: Engine, telemetry: Any) -> None:
    """Trace ``engine``'s requests as ``telemetry`` says; ``None`` or ``False`` turns it off.

    ``telemetry`` is ``True`` (the global tracer and meter providers), a ``TracerProvider``
    (metrics to the global meter provider), a ``MeterProvider`` (spans to the global tracer
    provider), or a ``(tracer_provider, meter_provider)`` pair in which ``None`` means the
    global one.

    Raises:
        ImportError: OpenTelemetry is not installed (the message says ``pip install "nbmcp[otel]"``).
        TypeError: ``telemetry`` is none of those.
    """
    if telemetry is None or telemetry is False:
        engine.observer = None
        return
    try:
        from nbmcp.telemetry.observer import observer_for
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] != "opentelemetry":
            raise
        raise ImportError('OpenTelemetry is not installed: pip install "nbmcp[otel]"') from exc
    engine.observer = observer_for(telemetry)
