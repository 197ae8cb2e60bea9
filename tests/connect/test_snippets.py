"""Every client's snippet, for every auth mode: the shape its client documents, the key only by reference."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from nbmcp.connect import AUTH_MODES, CLIENTS, ConnectTarget, auth_mode, connect_info, describe
from nbmcp.connect.commands import PROTOCOL_VERSION
from tests.connect import schemas
from tests.connect.kit import AUTHS, KEY_AUTHS, options, simple_commands

PUBLIC = "https://tide-7f3a.ngrok-free.app/mcp"
LOCAL = "http://127.0.0.1:8765/mcp"
FILES = {
    "cursor": schemas.cursor,
    "vscode": schemas.vscode,
    "windsurf": schemas.windsurf,
    "claude_desktop": schemas.claude_desktop,
}
HEADER = "Authorization: Bearer ${NBMCP_API_KEY}"


def info(auth: str, url: str = PUBLIC, **kwargs: str) -> dict[str, dict[str, object]]:
    return connect_info(ConnectTarget("tide tables", url, auth, **kwargs))


def test_every_client_has_its_entry_in_order() -> None:
    assert CLIENTS == (
        "chatgpt",
        "chatgpt_actions",
        "claude",
        "claude_code",
        "claude_desktop",
        "cursor",
        "vscode",
        "windsurf",
        "inspector",
        "curl",
    )
    for auth in AUTHS:
        entries = info(auth)
        assert tuple(entries) == CLIENTS
        for name, item in entries.items():
            assert item["format"] in ("json", "shell", "text", "url"), name
            assert isinstance(item["snippet"], str) and item["snippet"], name
            steps = item["steps"]
            assert isinstance(steps, list) and steps and all(isinstance(s, str) and s for s in steps), name
            assert str(item["docs"]).startswith("https://"), name


@pytest.mark.parametrize("auth", AUTHS)
@pytest.mark.parametrize("client", sorted(FILES))
def test_file_snippets_have_the_documented_shape(client: str, auth: str) -> None:
    entries = info(auth)
    item = entries[client]
    assert item["format"] == "json" and item["file"]
    document = json.loads(str(item["snippet"]))
    schema = FILES[client]("tide-tables", PUBLIC, auth in KEY_AUTHS)
    Draft202012Validator.check_schema(schema)
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=str)
    assert not errors, "\n".join(e.message for e in errors)


@pytest.mark.parametrize("auth", KEY_AUTHS)
def test_vscode_header_names_its_password_input(auth: str) -> None:
    document = json.loads(str(info(auth)["vscode"]["snippet"]))
    (ref,) = re.findall(
        r"\$\{input:([^}]+)\}", document["servers"]["tide-tables"]["headers"]["Authorization"]
    )
    assert [i["id"] for i in document["inputs"]] == [ref]


@pytest.mark.parametrize("auth", KEY_AUTHS)
def test_mcp_remote_takes_the_header_from_env_without_a_space(auth: str) -> None:
    server = json.loads(str(info(auth)["claude_desktop"]["snippet"]))["mcpServers"]["tide-tables"]
    assert server["args"][-2:] == schemas.HEADER_TAIL
    assert server["env"]["AUTH_HEADER"] == "Bearer <your NBMCP_API_KEY>"


def test_mcp_remote_allows_plain_http_only_where_it_must() -> None:
    def args(url: str) -> list[str]:
        document = json.loads(str(info("none", url)["claude_desktop"]["snippet"]))
        return list(document["mcpServers"]["tide-tables"]["args"])

    assert "--allow-http" not in args(LOCAL)  # mcp-remote allows http on localhost itself
    assert "--allow-http" in args("http://10.0.0.5:8000/mcp")
    assert "--allow-http" not in args(PUBLIC)


@pytest.mark.parametrize("auth", AUTHS)
def test_claude_code_is_one_claude_mcp_add(auth: str) -> None:
    (argv,) = simple_commands(str(info(auth)["claude_code"]["snippet"]))
    assert argv[:7] == ["claude", "mcp", "add", "--transport", "http", "tide-tables", PUBLIC]
    assert argv[7:] == (["--header", HEADER] if auth in KEY_AUTHS else [])


@pytest.mark.parametrize("auth", AUTHS)
def test_inspector_lists_tools_with_the_header_last(auth: str) -> None:
    (argv,) = simple_commands(str(info(auth)["inspector"]["snippet"]))
    assert argv[:3] == ["npx", "@modelcontextprotocol/inspector", "--cli"]
    assert argv[3] == PUBLIC
    assert options(argv, "--transport") == ["http"] and options(argv, "--method") == ["tools/list"]
    # --header takes several values: anything after it would be read as another header
    assert argv[-2:] == ["--header", HEADER] if auth in KEY_AUTHS else "--header" not in argv


@pytest.mark.parametrize("auth", AUTHS)
def test_curl_initializes_then_lists_tools(auth: str) -> None:
    commands = simple_commands(str(info(auth)["curl"]["snippet"]))
    calls = [argv for argv in commands if argv[0] == "curl"]
    assert [argv[0] for argv in commands] == ["curl", "tr", "awk", "curl", "curl"]
    methods = [json.loads(options(argv, "-d")[0])["method"] for argv in calls]
    assert methods == ["initialize", "notifications/initialized", "tools/list"]
    for i, argv in enumerate(calls):
        assert PUBLIC in argv
        headers = options(argv, "-H")
        assert "Accept: application/json, text/event-stream" in headers
        assert "Content-Type: application/json" in headers
        assert f"MCP-Protocol-Version: {PROTOCOL_VERSION}" in headers
        assert (HEADER in headers) is (auth != "none")  # curl does no OAuth: a token goes in the header
        assert ("Mcp-Session-Id: $SID" in headers) is (i > 0)
    init = json.loads(options(calls[0], "-d")[0])
    assert init["params"]["protocolVersion"] == PROTOCOL_VERSION


@pytest.mark.parametrize("client", ["chatgpt", "claude"])
def test_cloud_connectors_get_the_url_and_oauth_only(client: str) -> None:
    for auth in AUTHS:
        item = info(auth)[client]
        assert item["snippet"] == PUBLIC and item["format"] == "url"
        steps = " ".join(item["steps"])  # type: ignore[arg-type]
        assert ("accept only OAuth or no authentication" in steps) is (auth == "key"), auth
        assert ("%mcp publish" in steps) is (auth == "key"), auth
        assert ("OAuth" in steps) is (auth != "none"), auth
    local = " ".join(info("oauth", LOCAL)[client]["steps"])  # type: ignore[arg-type]
    assert "needs a public https URL" in local and "%mcp publish" in local


def test_chatgpt_action_imports_the_schema_and_sends_x_api_key() -> None:
    assert info("key")["chatgpt_actions"]["snippet"] == "https://tide-7f3a.ngrok-free.app/openapi.json"
    assert "X-API-Key" in " ".join(info("oauth+key")["chatgpt_actions"]["steps"])  # type: ignore[arg-type]
    assert "X-API-Key" not in " ".join(info("none")["chatgpt_actions"]["steps"])  # type: ignore[arg-type]
    behind = connect_info(ConnectTarget("t", "https://host.example/nb/mcp", "key"))
    assert behind["chatgpt_actions"]["snippet"] == "https://host.example/nb/openapi.json"
    given = connect_info(ConnectTarget("t", PUBLIC, "key", schema_url="https://x.example/s.json"))
    assert given["chatgpt_actions"]["snippet"] == "https://x.example/s.json"


@pytest.mark.parametrize("auth", AUTHS)
def test_snippets_name_the_key_variable_and_no_other_secret(auth: str) -> None:
    entries = info(auth, key_env="TIDE_KEY")
    texts = {name: str(item["snippet"]) for name, item in entries.items()}
    for name, text in texts.items():
        assert "NBMCP_API_KEY" not in text, name
        for value in re.findall(r"Bearer (\$\{[^}]+\}|<[^>]+>|[^\"'\s,]+)", text):
            allowed = ("${TIDE_KEY}", "${env:TIDE_KEY}", "<your TIDE_KEY>")
            assert value in allowed or re.fullmatch(r"\$\{input:[\w.-]+\}", value), (name, value)
    keyed = {"claude_code", "cursor", "windsurf", "inspector"}
    for name in keyed:
        assert ("TIDE_KEY" in texts[name]) is (auth in KEY_AUTHS), name
    assert ("TIDE_KEY" in texts["curl"]) is (auth != "none")


def test_entry_names_are_what_every_client_accepts() -> None:
    assert ConnectTarget("tide tables!", PUBLIC, "none").entry == "tide-tables"
    assert ConnectTarget("3d-plots", PUBLIC, "none").entry == "nbmcp-3d-plots"
    assert ConnectTarget("???", PUBLIC, "none").entry == "nbmcp"
    assert ConnectTarget("Weather_2", PUBLIC, "none").entry == "Weather_2"


def test_targets_refuse_what_no_snippet_could_use() -> None:
    with pytest.raises(ValueError, match="auth must be one of"):
        ConnectTarget("x", PUBLIC, "basic")
    with pytest.raises(ValueError, match="http"):
        ConnectTarget("x", "ftp://host/mcp", "none")
    with pytest.raises(ValueError, match="environment variable"):
        ConnectTarget("x", PUBLIC, "key", key_env="A B; rm")
    assert AUTH_MODES == ("none", "key", "oauth", "oauth+key")
    assert [auth_mode(oauth=o, key=k) for o in (False, True) for k in (False, True)] == list(AUTH_MODES)


def test_public_means_https_on_a_name_or_global_address() -> None:
    def public(url: str) -> bool:
        return ConnectTarget("x", url, "none").public

    assert public(PUBLIC) and public("https://203.0.113.9/mcp") is False  # documentation range
    assert public("https://8.8.8.8/mcp")
    assert not public(LOCAL) and not public("https://127.0.0.1/mcp") and not public("https://10.1.2.3/mcp")
    assert not public("https://localhost:8443/mcp") and not public("https://tide.localhost/mcp")
    assert not public("http://tide.example/mcp")


def test_text_shows_every_snippet_verbatim() -> None:
    entries = info("oauth+key")
    text = describe(entries, "nbmcp server 'tide tables'")
    assert text.startswith("nbmcp server 'tide tables'\n")
    for name, item in entries.items():
        assert f"\n{item['snippet']}\n" in text, name
        assert f"[{name}]" in text
