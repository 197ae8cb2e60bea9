"""Sealed requestState (protocol 2026-07-28 MRTR): what opens, and everything that must not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import string
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbmcp.errors import InvalidParams
from nbmcp.protocol import request_state
from nbmcp.protocol.request_state import MAX_STATE_BYTES, SealedState, StateSigner

KEY = b"k" * 32
T0 = 1_800_000_000.0
ANSWERS: dict[str, Any] = {
    "user_name": {"action": "accept", "content": {"name": "Zoë 名前 🎉", "note": "line\nbreak \u2028"}},
    "capital_question": {
        "role": "assistant",
        "content": {"type": "text", "text": "Paris — «ville lumière»"},
        "model": "m",
    },
}
ASKED = {"user_name": "d1", "capital_question": "d2"}
BINDING: dict[str, Any] = {
    "method": "tools/call",
    "target": "book_trip",
    "arguments": {"city": "Zürich", "nights": 2, "opts": {"b": [1, 2], "a": None}},
    "principal_key": "key:alice",
}
ALPHABET = string.ascii_letters + string.digits + "-_."


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The module clock, fixed at ``now[0]``; a test moves time by assigning to it."""
    now = [T0]
    monkeypatch.setattr(request_state, "_now", lambda: now[0])
    yield now


def _seal(signer: StateSigner, **changes: Any) -> str:
    binding = {**BINDING, "answers": ANSWERS, "asked": ASKED, **changes}
    return signer.seal(**binding)


def _open(signer: StateSigner, token: object, **changes: Any) -> SealedState:
    return signer.open(token, **{**BINDING, **changes})


def _rejected(signer: StateSigner, token: object, **changes: Any) -> None:
    with pytest.raises(InvalidParams) as info:
        _open(signer, token, **changes)
    err = info.value
    assert (err.code, err.message, err.data) == (
        -32602,
        "Invalid or expired requestState",
        {"reason": "invalid_request_state"},
    )


def _claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    claims: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return claims


def _forge(claims: dict[str, Any], key: bytes = KEY) -> str:
    """A token made by hand from the documented format: s1.b64url(payload).b64url(HMAC-SHA256)."""
    signed = b"s1." + base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=")
    mac = base64.urlsafe_b64encode(hmac.new(key, signed, hashlib.sha256).digest()).rstrip(b"=")
    return (signed + b"." + mac).decode()


# --- what opens ---------------------------------------------------------------------------------


def test_round_trip_keeps_unicode_answers_and_asked() -> None:
    signer = StateSigner(KEY)
    token = _seal(signer)
    assert token.startswith("s1.") and token.count(".") == 2 and token.isascii()
    state = _open(signer, token)
    assert state == SealedState(ANSWERS, ASKED)
    assert state.answers["user_name"]["content"]["name"] == "Zoë 名前 🎉"


def test_round_trip_without_principal_or_arguments() -> None:
    signer = StateSigner(KEY)
    token = _seal(signer, method="resources/read", target="test://x/é", arguments=None, principal_key=None)
    state = _open(
        signer, token, method="resources/read", target="test://x/é", arguments=None, principal_key=None
    )
    assert state.answers == ANSWERS
    # absent arguments and an empty object are the same call
    _open(signer, token, method="resources/read", target="test://x/é", arguments={}, principal_key=None)


def test_empty_answers_round_trip() -> None:
    signer = StateSigner(KEY)
    assert _open(signer, _seal(signer, answers={}, asked={})) == SealedState({}, {})


def test_argument_order_is_irrelevant() -> None:
    signer = StateSigner(KEY)
    token = _seal(signer, arguments={"a": 1, "b": {"y": 2, "x": [3, {"q": 1, "p": 2}]}})
    reordered = {"b": {"x": [3, {"p": 2, "q": 1}], "y": 2}, "a": 1}
    assert _open(signer, token, arguments=reordered).answers == ANSWERS
    assert _open(signer, token, arguments=MappingProxyType(reordered)).answers == ANSWERS


def test_claims_bind_what_the_plan_says_and_hide_the_principal() -> None:
    signer = StateSigner(KEY, ttl=30)
    claims = _claims(_seal(signer, principal_key="key:alice-label"))
    assert set(claims) == {"iat", "exp", "m", "t", "a", "p", "n", "answers", "asked"}
    assert (claims["iat"], claims["exp"]) == (T0, T0 + 30)
    assert (claims["m"], claims["t"]) == ("tools/call", "book_trip")
    assert claims["answers"] == ANSWERS and claims["asked"] == ASKED
    assert "alice" not in orjson.dumps(claims).decode()
    assert len(base64.urlsafe_b64decode(claims["a"] + "==")) == 16
    assert len(base64.urlsafe_b64decode(claims["p"] + "==")) == 16
    assert _claims(_seal(signer, principal_key=None))["p"] == "-"


def test_a_hand_made_token_in_the_documented_format_opens() -> None:
    signer = StateSigner(KEY)
    claims = _claims(_seal(signer))
    claims["n"] = "other-nonce"
    assert _open(signer, _forge(claims)).asked == ASKED


def test_two_seals_always_differ() -> None:
    signer = StateSigner(KEY)
    tokens = {_seal(signer) for _ in range(50)}
    assert len(tokens) == 50
    assert len({_claims(token)["n"] for token in tokens}) == 50


# --- the key and the ttl ------------------------------------------------------------------------


@pytest.mark.parametrize("key", [b"", b"x" * 31, "x" * 31, "é" * 15 + "x"])
def test_a_key_shorter_than_32_bytes_is_refused(key: bytes | str) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        StateSigner(key)


@pytest.mark.parametrize("key", [b"x" * 32, "x" * 32, "é" * 16, bytearray(b"y" * 40)])
def test_keys_of_32_bytes_or_more_work(key: bytes | str) -> None:
    signer = StateSigner(key)
    assert _open(signer, _seal(signer)).answers == ANSWERS


def test_a_key_of_another_type_is_refused() -> None:
    with pytest.raises(TypeError):
        StateSigner(12345678901234567890123456789012)  # type: ignore[arg-type]


@pytest.mark.parametrize("ttl", [0, -1.0, float("nan")])
def test_a_ttl_that_is_not_positive_is_refused(ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl"):
        StateSigner(KEY, ttl=ttl)


def test_str_and_bytes_of_the_same_key_agree() -> None:
    assert _open(StateSigner("k" * 32), _seal(StateSigner(KEY))).answers == ANSWERS


def test_another_key_is_rejected() -> None:
    _rejected(StateSigner(b"j" * 32), _seal(StateSigner(KEY)))


def test_random_keys_are_per_signer() -> None:
    one, two = StateSigner(), StateSigner()
    token = _seal(one)
    assert _open(one, token).answers == ANSWERS
    _rejected(two, token)


# --- time ---------------------------------------------------------------------------------------


def test_expiry_by_moving_the_clock(clock: list[float]) -> None:
    signer = StateSigner(KEY, ttl=600)
    token = _seal(signer)
    clock[0] = T0 + 599.999
    assert _open(signer, token).answers == ANSWERS
    clock[0] = T0 + 600
    _rejected(signer, token)
    clock[0] = T0 + 10**6
    _rejected(signer, token)


def test_iat_far_in_the_future_is_rejected(clock: list[float]) -> None:
    signer = StateSigner(KEY)
    clock[0] = T0 + 61  # sealed by a clock 61 s ahead of the one that opens
    ahead = _seal(signer)
    clock[0] = T0 + 59
    slightly_ahead = _seal(signer)
    clock[0] = T0
    _rejected(signer, ahead)
    assert _open(signer, slightly_ahead).answers == ANSWERS  # up to 60 s of skew is tolerated
    claims = _claims(slightly_ahead)
    claims["iat"] = T0 + 3600  # validly signed, but issued an hour from now
    _rejected(signer, _forge(claims))


# --- the binding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"method": "prompts/get"},
        {"target": "book_trip2"},
        {"target": "Book_trip"},
        {"arguments": {"city": "Zurich", "nights": 2, "opts": {"b": [1, 2], "a": None}}},
        {"arguments": {"city": "Zürich", "nights": 2}},
        {"arguments": {"city": "Zürich", "nights": 2.5, "opts": {"b": [1, 2], "a": None}}},
        {"arguments": {"city": "Zürich", "nights": 2, "opts": {"b": [2, 1], "a": None}}},
        {"arguments": None},
        {"principal_key": "key:bob"},
        {"principal_key": "token:alice"},
        {"principal_key": None},
    ],
    ids=lambda c: next(iter(c)) + "=" + repr(next(iter(c.values())))[:30],
)
def test_another_request_or_principal_is_rejected(changes: dict[str, Any]) -> None:
    signer = StateSigner(KEY)
    _rejected(signer, _seal(signer), **changes)


def test_a_token_without_principal_does_not_open_for_one() -> None:
    signer = StateSigner(KEY)
    _rejected(signer, _seal(signer, principal_key=None), principal_key="key:alice")


def test_arguments_that_are_not_json_are_rejected_not_raised() -> None:
    signer = StateSigner(KEY)
    _rejected(signer, _seal(signer), arguments={"big": 2**70})
    with pytest.raises(TypeError):
        _seal(signer, arguments={"x": object()})


# --- the token itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, 123, 1.5, True, b"s1.a.b", ["s1.a.b"], {"t": "s1.a.b"}])
def test_a_token_that_is_not_a_string_is_rejected(token: object) -> None:
    _rejected(StateSigner(KEY), token)


def test_tampering_with_every_character_is_rejected() -> None:
    signer = StateSigner(KEY)
    token = _seal(signer, answers={"k": {"action": "accept"}}, asked={"k": "d"})
    for i, char in enumerate(token):
        for other in {ALPHABET[(ALPHABET.index(char) + 1) % len(ALPHABET)], "=", "é"}:
            _rejected(signer, token[:i] + other + token[i + 1 :])
        _rejected(signer, token[:i] + token[i + 1 :])  # a character removed
        _rejected(signer, token[:i] + "A" + token[i:])  # a character inserted


def test_tampering_with_each_part_is_rejected() -> None:
    signer = StateSigner(KEY)
    token = _seal(signer)
    prefix, payload, mac = token.split(".")
    other_payload = _seal(signer, answers={"user_name": {"action": "decline"}}).split(".")[1]
    for bad in [
        "",
        "s1.",
        "s1..",
        token + "-TAMPERED",  # conformance scenario input-required-result-tampered-state
        token + "=",
        token + ".",
        "s2." + payload + "." + mac,
        "S1." + payload + "." + mac,
        "s1" + payload + "." + mac,
        prefix + "." + payload + mac,
        prefix + "." + payload,
        prefix + "." + payload + ".",
        prefix + "." + other_payload + "." + mac,  # spliced: another payload, this MAC
        prefix + "." + payload + "==" + "." + mac,  # same bytes once decoded, other text
        prefix + "." + payload[::-1] + "." + mac,
        prefix + "." + payload + "." + mac[:-1],
        prefix + "." + payload + "." + mac + "A",
        prefix + "." + payload + "." + base64.urlsafe_b64encode(b"\0" * 32).decode().rstrip("="),
        prefix + "." + payload + "." + mac.upper(),
        " " + token,
        token + "\n",
    ]:
        _rejected(signer, bad)


@pytest.mark.parametrize(
    "change",
    [
        {"iat": None},
        {"iat": "1800000000"},
        {"exp": None},
        {"exp": "9999999999"},
        {"m": None},
        {"p": None},
        {"answers": None},
        {"answers": []},
        {"asked": None},
        {"asked": {"k": 1}},
    ],
    ids=repr,
)
def test_a_validly_signed_but_malformed_payload_is_rejected(change: dict[str, Any]) -> None:
    signer = StateSigner(KEY)
    claims = {**_claims(_seal(signer)), **change}
    _rejected(signer, _forge(claims))


def test_a_validly_signed_payload_that_is_not_an_object_or_not_json_is_rejected() -> None:
    signer = StateSigner(KEY)
    _rejected(signer, _forge([1, 2]))  # type: ignore[arg-type]
    signed = b"s1." + base64.urlsafe_b64encode(b"{not json").rstrip(b"=")
    mac = base64.urlsafe_b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).rstrip(b"=")
    _rejected(signer, (signed + b"." + mac).decode())


def test_oversize_is_rejected_on_open_and_on_seal() -> None:
    signer = StateSigner(KEY)
    _rejected(signer, "s1." + "A" * MAX_STATE_BYTES + ".x")
    claims = {**_claims(_seal(signer)), "pad": "A" * MAX_STATE_BYTES}
    _rejected(signer, _forge(claims))  # validly signed, still too long
    big = {"k": {"action": "accept", "content": {"text": "x" * MAX_STATE_BYTES}}}
    with pytest.raises(InvalidParams) as info:
        _seal(signer, answers=big)
    assert info.value.data == {"reason": "request_state_too_large"}
    fits = {"k": {"action": "accept", "content": {"text": "x" * (MAX_STATE_BYTES // 2)}}}
    assert _open(signer, _seal(signer, answers=fits)).answers == fits


def test_the_reason_is_logged_at_debug_and_the_token_never(caplog: pytest.LogCaptureFixture) -> None:
    signer = StateSigner(KEY)
    token = _seal(signer)
    caplog.set_level(logging.DEBUG, logger="nbmcp")
    _rejected(signer, token, principal_key="key:bob")
    _rejected(signer, token + "-TAMPERED")
    records = [r for r in caplog.records if r.name == "nbmcp"]
    assert [r.levelno for r in records] == [logging.DEBUG, logging.DEBUG]
    assert "another principal" in records[0].getMessage()
    assert "signature" in records[1].getMessage()
    text = caplog.text
    assert token.split(".")[1][:20] not in text and token.split(".")[2] not in text
    assert "Zoë" not in text


# --- any mutation -------------------------------------------------------------------------------

_SIGNER = StateSigner(KEY)


@st.composite
def _mutations(draw: st.DrawFn) -> tuple[str, str]:
    token = _seal(_SIGNER)  # sealed at T0: the autouse clock holds while the test draws
    chars = st.sampled_from(ALPHABET + "=+/ !*~\0\né") | st.characters()
    kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "append", "swap"]))
    i = draw(st.integers(0, len(token) - 1))
    if kind == "replace":
        mutated = token[:i] + draw(chars) + token[i + 1 :]
    elif kind == "insert":
        mutated = token[:i] + draw(st.text(chars, min_size=1, max_size=4)) + token[i:]
    elif kind == "delete":
        mutated = token[:i] + token[i + draw(st.integers(1, 8)) :]
    elif kind == "truncate":
        mutated = token[:i]
    elif kind == "append":
        mutated = token + draw(st.text(chars, min_size=1, max_size=8))
    else:
        j = draw(st.integers(0, len(token) - 1))
        lo, hi = sorted((i, j))
        mutated = token[:lo] + token[hi] + token[lo + 1 : hi] + token[lo] + token[hi + 1 :]
    return token, mutated


@given(_mutations())
def test_any_mutated_token_is_rejected(case: tuple[str, str]) -> None:
    token, mutated = case
    if mutated == token:  # a swap of two equal characters, a replace by the same one
        assert _open(_SIGNER, mutated).answers == ANSWERS
        return
    _rejected(_SIGNER, mutated)
