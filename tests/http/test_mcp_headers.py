"""The 2026-07-28 header checks as pure functions: every case of the spec's Server Validation
and Custom Headers tables, and of the conformance scenarios ``http-header-validation`` and
``http-custom-header-server-validation`` (conformance-next 0.2.0-alpha.12)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from nbmcp.errors import HeaderMismatch
from nbmcp.http import mcp_headers
from nbmcp.http.mcp_headers import check_params, decode_header_value
from nbmcp.tools.x_mcp_header import HeaderParam, header_params

V = "2026-07-28"
Raw = list[tuple[bytes, bytes]]


def check_standard(raw: Raw, msg: dict[str, Any], version: str) -> None:
    """Both ways the endpoint may check: the raw scan, and the shortcut over the folded dict it
    already holds (``headers_of``: lower-case names, later duplicates win). Every case below runs
    through both, and both must give the same outcome (the same refusal, word for word)."""
    folded = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
    try:
        mcp_headers.check_standard(raw, msg, version)
    except HeaderMismatch as refused:
        with pytest.raises(HeaderMismatch) as again:
            mcp_headers.check_standard(raw, msg, version, folded)
        assert again.value.message == refused.message
        raise
    mcp_headers.check_standard(raw, msg, version, folded)


def test_the_shortcut_is_taken_for_plain_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain, distinct, exactly equal headers never reach the scan (else the shortcut is dead code)."""
    pairs = std("tools/call", "add")
    folded = {k.decode(): v.decode() for k, v in pairs}
    monkeypatch.setattr(mcp_headers, "_text", lambda *a: pytest.fail("the raw scan ran"))
    mcp_headers.check_standard(pairs, request("tools/call", name="add"), V, folded)


def raw(*pairs: tuple[str | bytes, str | bytes]) -> Raw:
    """ASGI header pairs; str parts are encoded as latin-1 (as servers hand them over)."""
    return [tuple(p if isinstance(p, bytes) else p.encode("latin-1") for p in pair) for pair in pairs]  # type: ignore[misc]


def b64(text: str) -> str:
    return "=?base64?" + base64.b64encode(text.encode()).decode() + "?="


def request(method: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": {}}}


def std(method: str, name: str | bytes | None = None) -> Raw:
    pairs: list[tuple[str | bytes, str | bytes]] = [
        ("host", "127.0.0.1"),
        ("content-type", "application/json"),
        ("mcp-protocol-version", V),
        ("mcp-method", method),
    ]
    if name is not None:
        pairs.append(("mcp-name", name))
    return raw(*pairs)


def refused(match: str, fn: Any, *args: Any) -> str:
    """Run a check that must fail; its message is one line, and the error is -32020."""
    with pytest.raises(HeaderMismatch, match=match) as caught:
        fn(*args)
    assert caught.value.code == -32020
    assert caught.value.error == {"code": -32020, "message": caught.value.message}
    assert "\n" not in caught.value.message and "\r" not in caught.value.message
    return caught.value.message


# -- decode_header_value --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("us-west1", "us-west1"),  # the spec's encoding table, row by row
        ("=?base64?SGVsbG8sIOS4lueVjA==?=", "Hello, 世界"),
        ("=?base64?IHBhZGRlZCA=?=", " padded "),
        ("=?base64?bGluZTEKbGluZTI=?=", "line1\nline2"),
        ("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=", "=?base64?literal?="),
        ("=?base64?SGVsbG8=?=", "Hello"),  # the suite's valid case
        ("SGVsbG8=", "SGVsbG8="),  # no markers: literal
        ("=?base64?SGVsbG8=", "=?base64?SGVsbG8="),  # no suffix: literal
        ("SGVsbG8=?=", "SGVsbG8=?="),  # no prefix: literal
        ("=?BASE64?SGVsbG8=?=", "=?BASE64?SGVsbG8=?="),  # markers are case-sensitive
        ("=?base64?=", "=?base64?="),  # prefix and suffix would overlap: literal
        ("=?base64??=", ""),
        ("", ""),
        ("=?base64?Pz8+Pg==?=", "??>>"),  # '+' is in the standard alphabet
        ("=?base64?w7/Dvw==?=", "ÿÿ"),
    ],
)
def test_decode(header: str, value: str) -> None:
    assert decode_header_value(header) == value


@pytest.mark.parametrize(
    "header",
    [
        "=?base64?SGVsbG8?=",  # bad padding (the suite's case)
        "=?base64?SGVs!!!bG8=?=",  # outside the alphabet (the suite's case)
        "=?base64?SGVsbG9=?=",  # non-canonical: nonzero trailing bits
        "=?base64?SGVsbG8==?=",  # too much padding
        "=?base64?SGVs bG8=?=",  # whitespace inside
        "=?base64?SGVsbG8=\n?=",
        "=?base64?-_8=?=",  # the URL-safe alphabet is not base64
        "=?base64?/w==?=",  # decodes to b"\xff": not UTF-8
        "=?base64?+/8=?=",  # b"\xfb\xff": standard alphabet, but not UTF-8
        "=?base64?é?=",  # not ASCII
        "=?base64?=?=",
        "=?base64?A?=",
    ],
)
def test_decode_malformed_is_none(header: str) -> None:
    assert decode_header_value(header) is None


# -- check_standard: what passes ----------------------------------------------------------------


def test_a_list_request_with_both_headers_passes() -> None:
    check_standard(std("tools/list"), request("tools/list"), V)


def test_a_request_without_params_passes() -> None:
    check_standard(std("tools/list"), {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, V)


@pytest.mark.parametrize("name", ["mcp-method", "MCP-METHOD", "Mcp-Method", "mCp-MeThOd"])
def test_header_names_are_case_insensitive(name: str) -> None:
    headers = raw(("MCP-Protocol-Version", V), (name, "tools/list"), ("MCP-NAME", "add"))
    check_standard(headers, request("tools/list"), V)
    check_standard(
        raw(("mcp-protocol-version", V), (name, "tools/call"), ("Mcp-Name", "add")),
        request("tools/call", name="add"),
        V,
    )


@pytest.mark.parametrize("value", ["  add  ", "add ", "\tadd", " \t add\t "])
def test_optional_whitespace_around_values_is_ignored(value: str) -> None:
    check_standard(std("tools/call", value), request("tools/call", name="add"), V)
    headers = raw(("mcp-protocol-version", f" {V} "), ("mcp-method", "\ttools/call "), ("mcp-name", value))
    check_standard(headers, request("tools/call", name="add"), V)


@pytest.mark.parametrize(
    ("method", "field", "value"),
    [
        ("tools/call", "name", "add"),
        ("prompts/get", "name", "greet"),
        ("resources/read", "uri", "file:///projects/myapp/config.json"),
        ("resources/read", "uri", "test://template/{id}/data?q=1&x=%20"),
    ],
)
def test_mcp_name_mirrors_name_or_uri(method: str, field: str, value: str) -> None:
    check_standard(std(method, value), request(method, **{field: value}), V)
    check_standard(std(method, b64(value)), request(method, **{field: value}), V)


def test_an_encoded_mcp_name_is_decoded_before_comparing() -> None:
    for name in ("Hello, 世界", " padded ", "line1\nline2", "=?base64?literal?="):
        check_standard(std("prompts/get", b64(name)), request("prompts/get", name=name), V)


def test_a_literal_that_only_looks_encoded_is_compared_as_written() -> None:
    check_standard(std("tools/call", "=?base64?SGk="), request("tools/call", name="=?base64?SGk="), V)
    refused(
        "does not match params.name",
        check_standard,
        std("tools/call", "=?base64?SGk=?="),
        request("tools/call", name="=?base64?SGk=?="),
        V,
    )


def test_mcp_name_is_not_required_for_other_methods() -> None:
    check_standard(std("tools/list"), request("tools/list", name="ignored"), V)
    check_standard(std("tools/list", "anything"), request("tools/list"), V)


def test_a_body_without_its_name_is_left_to_the_method() -> None:
    # No params.name: the handler answers -32602, which says more than a header error.
    check_standard(std("tools/call"), request("tools/call"), V)
    check_standard(std("tools/call", "add"), request("tools/call"), V)


def test_unrelated_headers_are_ignored() -> None:
    headers = std("tools/list") + raw(
        ("mcp-session-id", "abc"), ("m", "x"), ("mcp-param-region", "eu"), ("authorization", "Bearer \x80")
    )
    check_standard(headers, request("tools/list"), V)


# -- check_standard: what is refused ------------------------------------------------------------


def test_missing_protocol_version_header() -> None:
    refused(
        "^MCP-Protocol-Version header required$",
        check_standard,
        raw(("mcp-method", "tools/list")),
        request("tools/list"),
        V,
    )


def test_protocol_version_header_must_equal_meta() -> None:
    message = refused(
        "MCP-Protocol-Version header", check_standard, std("tools/list"), request("tools/list"), "v999.0.0"
    )
    assert "'2026-07-28'" in message and "'v999.0.0'" in message


def test_missing_method_header() -> None:
    refused(
        "^Mcp-Method header required$",
        check_standard,
        raw(("mcp-protocol-version", V)),
        request("tools/list"),
        V,
    )


@pytest.mark.parametrize("header", ["prompts/list", "TOOLS/LIST", "tools/list/", "tools/List"])
def test_method_header_must_equal_the_body_method(header: str) -> None:
    message = refused(
        "Mcp-Method header .* does not match the body method 'tools/list'",
        check_standard,
        std(header),
        request("tools/list"),
        V,
    )
    assert repr(header) in message


@pytest.mark.parametrize(
    ("method", "field"), [("tools/call", "name"), ("prompts/get", "name"), ("resources/read", "uri")]
)
def test_missing_name_header(method: str, field: str) -> None:
    message = refused(
        "^Mcp-Name header required", check_standard, std(method), request(method, **{field: "x"}), V
    )
    assert f"params.{field}" in message


@pytest.mark.parametrize("header", ["wrong_tool_name", "ADD", "add2", b64("other")])
def test_name_header_must_equal_the_body(header: str) -> None:
    refused(
        "Mcp-Name header .* does not match params.name 'add'",
        check_standard,
        std("tools/call", header),
        request("tools/call", name="add"),
        V,
    )


def test_name_header_must_equal_a_non_string_body_value_as_text() -> None:
    refused(
        "does not match params.name 5",
        check_standard,
        std("tools/call", "5"),
        request("tools/call", name=5),
        V,
    )


@pytest.mark.parametrize("header", ["=?base64?YWR?=", "=?base64?YW!k?=", "=?base64?YWR=?="])
def test_a_malformed_encoded_name_is_refused(header: str) -> None:
    refused(
        "Mcp-Name header holds a malformed",
        check_standard,
        std("tools/call", header),
        request("tools/call", name="add"),
        V,
    )


@pytest.mark.parametrize(
    ("name", "display"),
    [
        ("mcp-protocol-version", "MCP-Protocol-Version"),
        ("mcp-method", "Mcp-Method"),
        ("mcp-name", "Mcp-Name"),
    ],
)
def test_duplicates_are_refused_even_when_equal(name: str, display: str) -> None:
    base = std("tools/call", "add")
    twin = next(pair for pair in base if pair[0] == name.encode())
    upper = (name.upper().encode(), twin[1])
    refused(
        f"^{display} header appears more than once$",
        check_standard,
        [*base, twin],
        request("tools/call", name="add"),
        V,
    )
    refused(
        f"^{display} header appears more than once$",
        check_standard,
        [*base, upper],
        request("tools/call", name="add"),
        V,
    )


@pytest.mark.parametrize("bad", [b"\r", b"\n", b"\x00", b"\x1b", b"\x7f", b"\x80", b"\xe9", b"\xff"])
@pytest.mark.parametrize("which", ["mcp-protocol-version", "mcp-method", "mcp-name"])
def test_invalid_characters_are_refused(which: str, bad: bytes) -> None:
    headers = [(k, v[:3] + bad + v[3:] if k == which.encode() else v) for k, v in std("tools/call", "add")]
    message = refused(
        "header contains invalid characters$", check_standard, headers, request("tools/call", name="add"), V
    )
    assert bad.decode("latin-1") not in message


def test_invalid_characters_in_an_unneeded_name_header_are_refused() -> None:
    refused(
        "^Mcp-Name header contains invalid",
        check_standard,
        std("tools/list", b"a\x00b"),
        request("tools/list"),
        V,
    )


def test_a_raw_utf8_name_is_refused_and_must_be_encoded() -> None:
    name = "Hello, 世界"
    refused(
        "invalid characters",
        check_standard,
        std("prompts/get", name.encode()),
        request("prompts/get", name=name),
        V,
    )


# -- check_params ---------------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"},
        "count": {"type": "integer", "x-mcp-header": "Count"},
        "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"},
        "query": {"type": "string"},
        "target": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}},
    },
}
PARAMS = header_params(SCHEMA)
REGION = tuple(p for p in PARAMS if p.name == "Region")
COUNT = tuple(p for p in PARAMS if p.name == "Count")
DRY = tuple(p for p in PARAMS if p.name == "Dry-Run")
ZONE = tuple(p for p in PARAMS if p.name == "Zone")


def params_headers(**values: str | bytes) -> Raw:
    return std("tools/call", "sql") + raw(
        *((f"Mcp-Param-{k.replace('_', '-')}", v) for k, v in values.items())
    )


def test_all_headers_matching_the_body_pass() -> None:
    arguments = {"region": "us-west1", "count": 42, "dry": True, "query": "SELECT 1", "target": {"zone": "b"}}
    headers = params_headers(Region="us-west1", Count="42", Dry_Run="true", Zone="b")
    check_params(headers, arguments, PARAMS)


def test_no_params_costs_nothing_and_checks_nothing() -> None:
    check_params(params_headers(Region="\x00junk"), {"region": "x"}, ())


def test_the_param_is_what_header_params_builds() -> None:
    assert [*REGION, *ZONE] == [
        HeaderParam(("region",), "Region", "mcp-param-region", "string"),
        HeaderParam(("target", "zone"), "Zone", "mcp-param-zone", "string"),
    ]


@pytest.mark.parametrize(
    "name", ["mcp-param-region", "MCP-PARAM-REGION", "Mcp-Param-Region", "mcp-PARAM-rEgIoN"]
)
def test_param_header_names_are_case_insensitive(name: str) -> None:
    check_params(raw((name, "eu")), {"region": "eu"}, REGION)


@pytest.mark.parametrize(
    ("header", "body"),
    [
        (b64("Hello"), "Hello"),  # the suite: valid base64 is decoded
        ("SGVsbG8=", "SGVsbG8="),  # the suite: no markers, literal
        ("=?base64?SGVsbG8=", "=?base64?SGVsbG8="),  # the suite: no suffix, literal
        (b64("Hello, 世界"), "Hello, 世界"),
        (b64(" padded "), " padded "),
        (b64("line1\nline2"), "line1\nline2"),
        (b64("=?base64?literal?="), "=?base64?literal?="),
        ("  eu  ", "eu"),  # OWS is not part of the value
        ("test-default", "test-default"),
        (b64(""), ""),
    ],
)
def test_string_values_that_match(header: str, body: str) -> None:
    check_params(params_headers(Region=header), {"region": body}, REGION)


@pytest.mark.parametrize(
    ("header", "body"),
    [("US-WEST1", "us-west1"), ("eu", "eu "), ("padded", " padded "), (b64("Hello"), "SGVsbG8=")],
)
def test_string_values_that_differ(header: str, body: str) -> None:
    message = refused(
        "^Mcp-Param-Region header does not match argument 'region'$",
        check_params,
        params_headers(Region=header),
        {"region": body},
        REGION,
    )
    assert header.strip() not in message  # values are never echoed


@pytest.mark.parametrize(
    "header", ["=?base64?SGVsbG8?=", "=?base64?SGVs!!!bG8=?=", "=?base64?SGVsbG9=?=", "=?base64?/w==?="]
)
def test_malformed_base64_is_refused(header: str) -> None:
    refused(
        "^Mcp-Param-Region header holds a malformed",
        check_params,
        params_headers(Region=header),
        {"region": "Hello"},
        REGION,
    )


def test_omitted_header_with_a_value_in_the_body_is_refused() -> None:
    refused(
        "^Mcp-Param-Region header required: argument 'region' is in the body$",
        check_params,
        std("tools/call", "sql"),
        {"region": "test-value"},
        REGION,
    )
    refused("^Mcp-Param-Count header required", check_params, [], {"count": 0}, COUNT)
    refused("^Mcp-Param-Dry-Run header required", check_params, [], {"dry": False}, DRY)
    refused("^Mcp-Param-Region header required", check_params, [], {"region": ""}, REGION)


@pytest.mark.parametrize("arguments", [{}, {"region": None}, {"query": "x"}])
def test_absent_or_null_values_need_no_header(arguments: dict[str, Any]) -> None:
    check_params(std("tools/call", "sql"), arguments, PARAMS)


@pytest.mark.parametrize("arguments", [{}, {"region": None}])
def test_a_header_without_a_body_value_is_refused(arguments: dict[str, Any]) -> None:
    refused(
        "^Mcp-Param-Region header sent but argument 'region' is absent or null$",
        check_params,
        params_headers(Region="eu"),
        arguments,
        REGION,
    )


@pytest.mark.parametrize(
    ("header", "body"),
    [
        ("42", 42),
        ("-7", -7),
        ("0", 0),
        ("-0", 0),
        ("042", 42),  # numerically equal (as the SDK compares)
        ("42.0", 42),  # the spec's example
        ("42.000", 42),
        ("42", 42.0),
        (" 42 ", 42),
        (b64("42"), 42),
        (str(2**53 - 1), 2**53 - 1),
        (str(-(2**53) + 1), -(2**53) + 1),
        (str(10**30), 10**30),
    ],
)
def test_integers_compare_numerically(header: str, body: int | float) -> None:
    check_params(params_headers(Count=header), {"count": body}, COUNT)


@pytest.mark.parametrize(
    ("header", "body"),
    [
        ("43", 42),
        ("42.5", 42),
        ("42", 42.5),
        ("+42", 42),
        ("4.2e1", 42),
        ("0x2a", 42),
        ("4_2", 42),
        ("42.", 42),
        (".0", 0),
        ("-", 0),
        ("", 0),
        ("forty-two", 42),
        (b64("٤٢"), 42),  # Arabic-Indic digits are digits to str.isdigit, not to the spec
        ("1" * 5000, 1),  # past int()'s digit limit: refused, not crashed
        ("true", 1),
    ],
)
def test_integers_that_differ(header: str, body: int | float) -> None:
    refused(
        "^Mcp-Param-Count header does not match argument 'count'$",
        check_params,
        params_headers(Count=header),
        {"count": body},
        COUNT,
    )


def test_a_bool_body_for_an_integer_param_is_not_a_number() -> None:
    refused("does not match", check_params, params_headers(Count="1"), {"count": True}, COUNT)


@pytest.mark.parametrize(("header", "body"), [("true", True), ("false", False), (b64("true"), True)])
def test_booleans_match_as_lowercase_words(header: str, body: bool) -> None:
    check_params(params_headers(Dry_Run=header), {"dry": body}, DRY)


@pytest.mark.parametrize(
    ("header", "body"),
    [("True", True), ("TRUE", True), ("1", True), ("false", True), ("true", False), ("0", False)],
)
def test_booleans_that_differ(header: str, body: bool) -> None:
    refused(
        "^Mcp-Param-Dry-Run header does not match argument 'dry'$",
        check_params,
        params_headers(Dry_Run=header),
        {"dry": body},
        DRY,
    )


def test_nested_paths() -> None:
    check_params(params_headers(Zone="b"), {"target": {"zone": "b"}}, ZONE)
    check_params([], {"target": {}}, ZONE)
    check_params([], {"target": "not an object"}, ZONE)
    check_params([], {}, ZONE)
    refused(
        "^Mcp-Param-Zone header required: argument 'target.zone'",
        check_params,
        [],
        {"target": {"zone": "b"}},
        ZONE,
    )
    refused(
        "^Mcp-Param-Zone header sent but argument 'target.zone'",
        check_params,
        params_headers(Zone="b"),
        {"target": "b"},
        ZONE,
    )


def test_values_without_a_header_form() -> None:
    # An object for a string param: no header is expected (the argument check refuses it),
    # and one claiming to carry it can never match.
    check_params([], {"region": {"a": 1}}, REGION)
    refused("does not match", check_params, params_headers(Region="x"), {"region": ["x"]}, REGION)


@pytest.mark.parametrize("second", ["mcp-param-region", "MCP-PARAM-REGION"])
def test_duplicate_param_headers_are_refused_even_when_equal(second: str) -> None:
    headers = [*params_headers(Region="eu"), (second.encode(), b"eu")]
    refused(
        "^Mcp-Param-Region header appears more than once$", check_params, headers, {"region": "eu"}, REGION
    )


@pytest.mark.parametrize("bad", [b"\r", b"\n", b"\x00", b"\x7f", b"\x80", b"\xe9"])
def test_invalid_characters_in_param_values_are_refused(bad: bytes) -> None:
    refused(
        "^Mcp-Param-Region header contains invalid characters$",
        check_params,
        params_headers(Region=b"e" + bad + b"u"),
        {"region": "eu"},
        REGION,
    )


def test_a_tab_inside_a_value_is_allowed() -> None:
    check_params(params_headers(Region="e\tu"), {"region": "e\tu"}, REGION)


def test_undeclared_param_headers_are_ignored() -> None:
    check_params(params_headers(Region="eu", Other="\x00x"), {"region": "eu", "other": "y"}, REGION)


def test_param_values_are_never_echoed() -> None:
    for headers, arguments in [
        (params_headers(Region="secret-header"), {"region": "secret-body"}),
        (params_headers(Region="secret-header"), {}),
        ([], {"region": "secret-body"}),
    ]:
        with pytest.raises(HeaderMismatch) as caught:
            check_params(headers, arguments, REGION)
        assert "secret" not in caught.value.message


def test_the_first_failing_param_is_reported() -> None:
    arguments = {"region": "eu", "count": 1, "dry": True}
    headers = params_headers(Region="eu", Count="2", Dry_Run="false")
    refused("^Mcp-Param-Count", check_params, headers, arguments, PARAMS)


def test_the_conformance_scenario_in_order() -> None:
    """``http-custom-header-server-validation`` against a tool like the fixture's."""
    params = header_params(
        {"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}}
    )
    hello = base64.b64encode(b"Hello").decode()
    accept = [(f"=?base64?{hello}?=", "Hello"), (hello, hello), (f"=?base64?{hello}", f"=?base64?{hello}")]
    for header, body in accept:
        check_params(params_headers(Region=header), {"region": body}, params)
    for header in ("=?base64?SGVsbG8?=", "=?base64?SGVs!!!bG8=?="):
        refused("malformed", check_params, params_headers(Region=header), {"region": "Hello"}, params)
    refused("required", check_params, std("tools/call", "sql"), {"region": "test-value"}, params)
