"""inputResponses (protocol 2026-07-28 MRTR): the map is checked, and each answer's shape is judged.

``answer_fits`` is also held against the specification's own 2026-07-28 schema (``ElicitResult``,
``CreateMessageResult``, ``ListRootsResult``, read through ``tests/peers/spec_schema``): every answer
the schema accepts must fit, and every one it refuses must not, except where nbmcp is lenient on
purpose: an elicitation's ``content: null`` is read as absent, and its values are left to the tool
(the schema the tool asked with judges them, not the wire).
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.jsonschema

from nbmcp.errors import InvalidParams
from nbmcp.protocol.input_responses import answer_fits, validate_input_responses
from tests.peers import spec_schema

ELICIT, SAMPLE, ROOTS = "elicitation/create", "sampling/createMessage", "roots/list"
RESULT_OF = {ELICIT: "ElicitResult", SAMPLE: "CreateMessageResult", ROOTS: "ListRootsResult"}
TEXT = {"type": "text", "text": "Paris"}

# (method, answer, fits); LENIENT marks the cases the schema refuses but nbmcp reads on purpose.
CASES: list[tuple[str, Any, bool]] = [
    (ELICIT, {"action": "accept", "content": {"name": "Zoë", "n": 3, "ok": True, "tags": ["a"]}}, True),
    (ELICIT, {"action": "accept", "content": {}}, True),
    (ELICIT, {"action": "accept"}, True),
    (ELICIT, {"action": "decline"}, True),
    (ELICIT, {"action": "cancel", "_meta": {"x": 1}}, True),
    (ELICIT, {"action": "decline", "content": None}, True),  # LENIENT
    (ELICIT, {"action": "accept", "content": {"nested": {"a": 1}}}, True),  # LENIENT
    (ELICIT, {"action": "accept", "content": ["Zoë"]}, False),
    (ELICIT, {"action": "accept", "content": "Zoë"}, False),
    (ELICIT, {"action": "ok"}, False),
    (ELICIT, {"action": "ACCEPT"}, False),
    (ELICIT, {"action": ["accept"]}, False),
    (ELICIT, {"action": None}, False),
    (ELICIT, {"content": {"name": "x"}}, False),
    (ELICIT, {}, False),
    (SAMPLE, {"role": "assistant", "content": TEXT, "model": "m"}, True),
    (SAMPLE, {"role": "user", "content": [TEXT, TEXT], "model": "m", "stopReason": "endTurn"}, True),
    (SAMPLE, {"role": "assistant", "content": TEXT}, False),
    (SAMPLE, {"role": "assistant", "content": TEXT, "model": 7}, False),
    (SAMPLE, {"role": "system", "content": TEXT, "model": "m"}, False),
    (SAMPLE, {"content": TEXT, "model": "m"}, False),
    (SAMPLE, {"role": "assistant", "content": "Paris", "model": "m"}, False),
    (SAMPLE, {"role": "assistant", "model": "m"}, False),
    (SAMPLE, {"role": ["assistant"], "content": TEXT, "model": "m"}, False),
    (ROOTS, {"roots": []}, True),
    (ROOTS, {"roots": [{"uri": "file:///home/zoë"}, {"uri": "file:///tmp", "name": "tmp"}]}, True),
    (ROOTS, {"roots": [{"name": "tmp"}]}, False),
    (ROOTS, {"roots": [{"uri": 1}]}, False),
    (ROOTS, {"roots": ["file:///tmp"]}, False),
    (ROOTS, {"roots": {"uri": "file:///tmp"}}, False),
    (ROOTS, {"roots": None}, False),
    (ROOTS, {}, False),
]
LENIENT = {
    (ELICIT, repr({"action": "decline", "content": None})),
    (ELICIT, repr({"action": "accept", "content": {"nested": {"a": 1}}})),  # the tool's schema judges
}


# --- validate_input_responses -------------------------------------------------------------------


def test_absent_or_null_is_empty() -> None:
    assert validate_input_responses(None) == {}


def test_an_object_of_objects_is_returned_as_it_is() -> None:
    raw = {"user_name": {"action": "accept", "content": {"name": "名前"}}, "extra": {}, "": {"x": 1}}
    assert validate_input_responses(raw) is raw
    empty: dict[str, Any] = {}
    assert validate_input_responses(empty) is empty


@pytest.mark.parametrize("raw", [[], [{"action": "accept"}], "user_name", 12345, 1.5, True, False])
def test_a_map_that_is_not_an_object_is_invalid_params(raw: object) -> None:
    with pytest.raises(InvalidParams) as info:
        validate_input_responses(raw)
    assert info.value.code == -32602
    assert "inputResponses must be an object" in info.value.message


@pytest.mark.parametrize("value", [12345, "yes", None, True, [], [{"action": "accept"}], 1.5])
def test_an_entry_that_is_not_an_object_is_invalid_params_naming_the_key(value: object) -> None:
    with pytest.raises(InvalidParams) as info:
        validate_input_responses({"fine": {"action": "accept"}, "user_name": value})
    assert info.value.code == -32602
    assert info.value.message == "inputResponses['user_name'] must be an object (the client's result)"


def test_the_key_in_the_message_stays_on_one_short_line() -> None:
    with pytest.raises(InvalidParams) as info:
        validate_input_responses({"evil\nkey\r" + "x" * 500: 1})
    message = info.value.message
    assert "\n" not in message and "\r" not in message
    assert len(message) < 140
    assert "'evil\\nkey\\r" in message


# --- answer_fits --------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "answer", "fits"), CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_answer_fits(method: str, answer: Any, fits: bool) -> None:
    assert answer_fits(method, answer) is fits


@pytest.mark.parametrize("method", ["tools/call", "ping", "", "elicitation/createx", "Roots/List"])
def test_an_unknown_kind_fits_nothing(method: str) -> None:
    assert answer_fits(method, {"action": "accept", "roots": [], "role": "user", "content": {}}) is False


@pytest.mark.parametrize("answer", [None, [], "accept", 1, [("action", "accept")]])
def test_an_answer_that_is_not_an_object_fits_nothing(answer: Any) -> None:
    for method in RESULT_OF:
        assert answer_fits(method, answer) is False


def test_an_answer_of_one_kind_does_not_fit_another() -> None:
    elicit = {"action": "accept", "content": {"name": "x"}}
    sample = {"role": "assistant", "content": TEXT, "model": "m"}
    roots = {"roots": []}
    assert [answer_fits(m, a) for m in (ELICIT, SAMPLE, ROOTS) for a in (elicit, sample, roots)] == [
        True,
        False,
        False,
        False,
        True,
        False,
        False,
        False,
        True,
    ]


@functools.cache
def _validators() -> dict[str, Any]:
    revision, schema = spec_schema.schema_for("2026-07-28")
    key = "$defs" if "$defs" in schema else "definitions"
    uri = f"urn:mcp-spec:{revision}/schema.json"
    resource = referencing.jsonschema.specification_with(schema["$schema"]).create_resource(schema)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(uri, resource)
    cls = jsonschema.validators.validator_for(schema)
    return {
        method: cls({"$ref": f"{uri}#/{key}/{name}"}, registry=registry) for method, name in RESULT_OF.items()
    }


@pytest.mark.parametrize(("method", "answer", "fits"), CASES, ids=lambda v: v if isinstance(v, str) else "")
def test_answer_fits_agrees_with_the_spec_schema(method: str, answer: Any, fits: bool) -> None:
    valid = _validators()[method].is_valid(answer)
    if (method, repr(answer)) in LENIENT:
        assert fits and not valid
    else:
        assert valid is fits
