"""Redaction and cutting: what of a call may be shown or stored."""

from __future__ import annotations

import orjson
import pytest

from nbmcp import MCPServer
from nbmcp.monitor.redact import (
    JOURNAL_LIMIT,
    REDACTED,
    TRUNCATED,
    cut_text,
    for_display,
    is_secret_name,
    redact_arguments,
)
from tests.monitor.records import finished

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"
KEY = "k3y-of-the-server-0123456789"


@pytest.mark.parametrize(
    "name",
    [
        "password", "Password", "passwd", "db_password", "passphrase", "secret", "client_secret",
        "token", "access_token", "accessToken", "refresh-token", "api_key", "apiKey", "X-Api-Key",
        "key", "private_key", "secret_key", "authorization", "Authorization", "auth", "basic_auth",
        "credentials", "aws_credential", "session_cookie", "pin", "otp", "user_pwd",
    ],
)  # fmt: skip
def test_names_that_look_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "city",
        "max_tokens",
        "tokens",
        "keyword",
        "keys",
        "author",
        "monkeys",
        "user",
        "query",
        "a",
        "spin_count",
    ],
)
def test_names_that_do_not(name: str) -> None:
    assert not is_secret_name(name)


def test_secret_values_are_redacted_at_any_depth_and_nothing_else_changes() -> None:
    arguments = {
        "city": "Paris",
        "password": "hunter2",
        "n": 3,
        "options": {"api_key": "abc", "unit": "celsius", "nested": [{"token": "t"}, {"ok": True}]},
        "headers": ["Bearer abc.def", "text/plain"],
        "jwt_inside": JWT,
    }
    shown = redact_arguments(arguments)
    assert shown == {
        "city": "Paris",
        "password": REDACTED,
        "n": 3,
        "options": {"api_key": REDACTED, "unit": "celsius", "nested": [{"token": REDACTED}, {"ok": True}]},
        "headers": [REDACTED, "text/plain"],
        "jwt_inside": REDACTED,
    }
    assert arguments["password"] == "hunter2"  # the tool's own arguments are untouched
    plain = {"city": "Paris", "n": [1, 2]}
    assert redact_arguments(plain) is plain  # nothing to redact: no copy


def test_the_servers_own_keys_are_redacted_wherever_they_appear() -> None:
    record = finished(
        "lookup",
        {"city": KEY, "note": f"my key is {KEY}!", "short": "abc"},
        ok=False,
        text=f"unknown city {KEY!r}",
        output=f"looking up {KEY}\n",
    )
    shown = record.to_dict(secrets=(KEY, "abc"))
    assert shown["arguments"] == {"city": REDACTED, "note": REDACTED, "short": REDACTED}
    assert shown["error"] == f"unknown city '{REDACTED}'" and shown["summary"] == f"unknown city '{REDACTED}'"
    assert shown["output"] == f"looking up {REDACTED}\n"
    line = record.to_json(secrets=(KEY, "abc")).decode()
    assert KEY not in line and line.endswith("}\n")
    # a short key is redacted only as a whole value: "abc" inside ordinary words stays
    assert finished("x", {"word": "abcdef"}).to_dict(("abc",))["arguments"] == {"word": "abcdef"}


def test_a_server_redacts_its_keys_in_calls() -> None:
    server = MCPServer("redact", api_keys={"ci": KEY})

    @server.tool
    def echo(text: str, password: str = "") -> str:
        """Echo."""
        return text

    server.call_tool_sync("echo", {"text": KEY, "password": "hunter2"}, timeout=10)
    (call,) = server.calls()
    assert call["arguments"] == {"text": REDACTED, "password": REDACTED}
    assert KEY not in orjson.dumps(call).decode() and "hunter2" not in orjson.dumps(call).decode()
    assert call["summary"] == REDACTED  # the result echoed the key: scrubbed from the summary too


def test_big_arguments_and_output_are_cut_with_a_marker_past_64_kib() -> None:
    big = "x" * (JOURNAL_LIMIT + 10)
    record = finished("upload", {"blob": big}, output="y" * (JOURNAL_LIMIT + 5))
    line = record.to_json()
    shown = orjson.loads(line)
    size = len(orjson.dumps({"blob": big}))
    assert shown["arguments"][TRUNCATED] == {"bytes": size}
    assert shown["arguments"]["head"] == orjson.dumps({"blob": big})[:JOURNAL_LIMIT].decode()
    assert shown["output"] == "y" * JOURNAL_LIMIT + "…[cut: 5 more characters]"
    assert len(line) < 3 * JOURNAL_LIMIT
    # up to the limit, kept whole
    whole = finished("upload", {"blob": "x" * (JOURNAL_LIMIT - 100)})
    assert orjson.loads(whole.to_json())["arguments"] == {"blob": "x" * (JOURNAL_LIMIT - 100)}


def test_display_cuts_long_strings_lists_and_depth() -> None:
    assert cut_text("abcdef", 4) == "abcd…[cut: 2 more characters]"
    assert cut_text("abc", 4) == "abc"
    shown = for_display(
        {"text": "z" * 3000, "items": list(range(150)), "deep": {"a": {"b": {"c": 1}}}}, depth=3
    )
    assert shown["text"] == "z" * 2000 + "…[cut: 1000 more characters]"
    assert shown["items"][:100] == list(range(100)) and shown["items"][100] == "… 50 more"
    assert shown["deep"] == {"a": {"b": "…"}}
    wide = for_display({f"k{i}": i for i in range(103)})
    assert len(wide) == 101 and wide["…"] == "3 more"


def test_record_dict_for_display_is_redacted_and_cut() -> None:
    server = MCPServer("display", api_key=KEY)
    record = finished("x", {"token": "t0k", "text": "q" * 5000, "k": KEY})
    shown = server.monitor.record_dict(record, display=True)
    assert shown["arguments"]["token"] == REDACTED and shown["arguments"]["k"] == REDACTED
    assert shown["arguments"]["text"].endswith("…[cut: 3000 more characters]")


def test_values_json_cannot_hold_are_written_as_text_never_dropped() -> None:
    record = finished("x", {"big": 2**70, "when": object, 3: "three"})
    shown = orjson.loads(record.to_json())
    assert shown["arguments"] == {"big": 2**70, "when": str(object), "3": "three"}
    assert record.to_json().endswith(b"}\n")


@pytest.mark.parametrize(
    "arguments",
    [
        {"a": 1, "b": 2.5, "c": None, "d": True},
        {"city": "Paris", "n": 3},
        {"city": "Bearer abc", "n": 3},
        {"jwt": JWT},
        {"password": "hunter2"},
        {"nested": {"token": "t"}, "list": [1, "x"]},
        {},
    ],
)
@pytest.mark.parametrize("secrets", [(), (KEY,)])
def test_the_line_is_the_dict_whatever_the_arguments(
    arguments: dict[str, object], secrets: tuple[str, ...]
) -> None:
    record = finished("x", arguments)
    assert orjson.loads(record.to_json(secrets)) == record.to_dict(secrets)
