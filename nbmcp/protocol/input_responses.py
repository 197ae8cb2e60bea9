"""``inputResponses`` of protocol 2026-07-28 (MRTR): the client's answers, checked before use.

A retry of ``tools/call``, ``prompts/get`` or ``resources/read`` may carry ``inputResponses``,
mapping each key of the previous round's ``inputRequests`` to the client's result for it. This is
client input: the map and each entry must be objects (-32602 otherwise, the specification's
"malformed input"), and an answer is used only when it has the shape of the result its question
asks for (``answer_fits``, from the 2026-07-28 schema's ``ElicitResult``, ``CreateMessageResult``
and ``ListRootsResult``). Extra, unknown keys are left for the caller to ignore, as the
specification says servers SHOULD.

Checks are plain ``isinstance`` walks, no schema library: this runs on every retry.
"""

from __future__ import annotations

from typing import Any, Final

from nbmcp.errors import InvalidParams

__all__ = ["answer_fits", "validate_input_responses"]

_ACTIONS: Final = ("accept", "decline", "cancel")
_ROLES: Final = ("user", "assistant")


def validate_input_responses(raw: object) -> dict[str, dict[str, Any]]:
    """The ``inputResponses`` map, checked: absent or ``null`` is ``{}``; else -32602.

    The map itself is returned (no copy): a JSON object's keys are strings already.
    """
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidParams("inputResponses must be an object mapping request keys to responses")
    for key, value in raw.items():
        if not isinstance(value, dict):
            raise InvalidParams(f"inputResponses[{_name(key)}] must be an object (the client's result)")
    return raw


def answer_fits(method: str, answer: dict[str, Any]) -> bool:
    """Whether ``answer`` has the shape of the result of ``method`` (the question's kind).

    ``elicitation/create``: ``action`` is accept, decline or cancel, and ``content``, when given
    (not ``null``), is an object. ``sampling/createMessage``: ``role`` is user or assistant,
    ``content`` an object or a list, ``model`` a string. ``roots/list``: ``roots`` is a list of
    objects, each with a string ``uri``. Any other method fits nothing.
    """
    if not isinstance(answer, dict):
        return False
    if method == "elicitation/create":
        content = answer.get("content")
        return answer.get("action") in _ACTIONS and (content is None or isinstance(content, dict))
    if method == "sampling/createMessage":
        return (
            answer.get("role") in _ROLES
            and isinstance(answer.get("content"), dict | list)
            and isinstance(answer.get("model"), str)
        )
    if method == "roots/list":
        roots = answer.get("roots")
        return isinstance(roots, list) and all(
            isinstance(root, dict) and isinstance(root.get("uri"), str) for root in roots
        )
    return False


def _name(key: object) -> str:
    """The key as a message shows it: quoted, escaped onto one line, at most 64 characters."""
    shown = repr(key)
    return shown if len(shown) <= 64 else shown[:61] + "..."
