"""``nbmcp serve --otel``: the global providers set up from the standard ``OTEL_*`` variables.

The OpenTelemetry SDK's own configurator does the work (the base of the one
``opentelemetry-instrument`` runs): exporters from ``OTEL_TRACES_EXPORTER`` and
``OTEL_METRICS_EXPORTER``, their endpoints and headers from ``OTEL_EXPORTER_OTLP_*``, the
resource from ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``, the sampler from
``OTEL_TRACES_SAMPLER``. nbmcp fills in the defaults a distribution would: ``otlp`` for an
exporter variable left unset (the specification's default; the bare SDK exports nothing
then), and the server's name as ``OTEL_SERVICE_NAME`` when no service name is configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["configure_from_environment", "environment_defaults"]

EXPORTER_HINT = (
    "pip install opentelemetry-exporter-otlp, or set OTEL_TRACES_EXPORTER and "
    "OTEL_METRICS_EXPORTER (console, none)"
)


def environment_defaults(service_name: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The ``OTEL_*`` variables nbmcp sets because ``environ`` leaves them unset or empty.

    As a distribution does (``opentelemetry-distro``): the SDK itself reads an unset exporter
    variable as "none", where the specification's default is ``otlp``; and it resolves ``otlp``
    to gRPC or HTTP (``OTEL_EXPORTER_OTLP_PROTOCOL``) only when the variable says it.
    """
    defaults = {
        name: "otlp" for name in ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER") if not environ.get(name)
    }
    named = environ.get("OTEL_SERVICE_NAME") or any(
        part.split("=", 1)[0].strip() == "service.name"
        for part in environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(",")
    )
    if not named:
        defaults["OTEL_SERVICE_NAME"] = service_name
    return defaults


def configure_from_environment(service_name: str) -> bool:
    """Set the global tracer and meter providers from the ``OTEL_*`` variables.

    Fills in :func:`environment_defaults` first (in ``os.environ``: this is for the serving
    process). Leaves providers someone already set alone (``opentelemetry-instrument nbmcp
    serve``, or the served file's own set-up). Returns whether it configured them.

    Raises:
        ImportError: the SDK is not installed (the message says ``pip install "nbmcp[otel]"``).
        RuntimeError: a configured exporter is not installed (the message says which, and what to do).
    """
    try:
        from opentelemetry import trace
        from opentelemetry.sdk._configuration import _OTelSDKConfigurator
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] != "opentelemetry":
            raise
        raise ImportError('the OpenTelemetry SDK is not installed: pip install "nbmcp[otel]"') from exc
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return False
    os.environ.update(environment_defaults(service_name, os.environ))
    try:
        _OTelSDKConfigurator().configure()  # type: ignore[no-untyped-call]
    except RuntimeError as exc:  # the SDK's words: "Requested component 'otlp_proto_grpc' not found in ..."
        raise RuntimeError(f"{exc}: {EXPORTER_HINT}") from None
    return True
