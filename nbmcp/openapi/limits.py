"""ChatGPT Action limits, in one place, with where each comes from.

From OpenAI's "Production notes on GPT Actions": summary and description of an endpoint at most
300 characters, a parameter description at most 700, request and response bodies under
100,000 characters each, 45 seconds per call, TLS on port 443. The GPT editor's own checks
add: at most 30 operations per Action, operationIds of 1-64 letters, digits, ``_`` or ``-``.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "MAX_DOCUMENT_CHARS",
    "MAX_OPERATIONS",
    "MAX_OPERATION_ID",
    "MAX_PARAMETER_DESCRIPTION",
    "MAX_PAYLOAD_CHARS",
    "MAX_SUMMARY",
    "OPERATION_ID",
    "TIMEOUT_SECONDS",
]

MAX_OPERATIONS: Final[int] = 30
"""Operations one Action may have (more: split the tools, or use the envelope form)."""

OPERATION_ID: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What ChatGPT accepts as an operationId (it becomes the model's function name)."""

MAX_OPERATION_ID: Final[int] = 64

MAX_SUMMARY: Final[int] = 300
"""Characters in an operation's ``summary``, and separately in its ``description``."""

MAX_PARAMETER_DESCRIPTION: Final[int] = 700
"""Characters in one parameter's (or request property's) ``description``."""

MAX_PAYLOAD_CHARS: Final[int] = 100_000
"""Characters in one request or response body."""

MAX_DOCUMENT_CHARS: Final[int] = 100_000
"""Characters (compact JSON) past which a schema is flagged as too large: ChatGPT turns the
whole document into function definitions in the model's context, so a schema past the payload
limit crowds it out (OpenAI publishes no exact figure; this is the payload limit)."""

TIMEOUT_SECONDS: Final[float] = 45.0
"""ChatGPT gives up on a call after this many seconds."""
