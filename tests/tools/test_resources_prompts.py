"""Resources, resource templates, prompts and completions."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from nbmcp import MCPServer, ToolDefinitionError, image, user
from nbmcp.errors import InvalidParams, ResourceNotFound
from nbmcp.protocol.exchange import Exchange, Pending
from nbmcp.protocol.session import Session
from nbmcp.tools.uri_templates import UriTemplate


def _run(coro: Any) -> Any:
    async def go() -> Any:
        return await coro(Exchange(Session(None), 1, None, {}, None, Pending()))

    return asyncio.run(go())


def _server() -> MCPServer:
    server = MCPServer("t")

    @server.resource("data://greeting", description="A greeting.")
    def greeting() -> str:
        return "hello"

    @server.resource("data://logo.png", mime_type="image/png")
    def logo() -> bytes:
        return b"\x89PNG\r\n\x1a\nxx"

    @server.resource("data://config")
    def config() -> dict[str, int]:
        return {"retries": 3}

    @server.resource("weather://{city}/days/{n}", completions={"city": ["paris", "pune", "oslo"]})
    def forecast(city: str, n: int) -> str:
        """Forecast for a city."""
        return f"{city} for {n * 2} half-days"

    @server.prompt(
        completions={"style": lambda value: [s for s in ("short", "shiny") if s.startswith(value)]}
    )
    def summarize(text: str, style: str = "short") -> str:
        """Summarize a text.

        Args:
            text: What to summarize.
            style: How.
        """
        return f"Summarize ({style}): {text}"

    @server.prompt(name="chat")
    def chat() -> list[Any]:
        return [user("look"), {"role": "assistant", "content": "I see"}, user(image(b"\x89PNG\r\n\x1a\n1"))]

    return server


def test_resources_are_listed_and_read() -> None:
    registry = _server().registry
    listed = registry.list_resources("2025-11-25")["resources"]
    assert [r["uri"] for r in listed] == ["data://greeting", "data://logo.png", "data://config"]
    assert listed[0] == {"uri": "data://greeting", "name": "greeting", "description": "A greeting."}
    assert _run(lambda ex: registry.read_resource("data://greeting", ex)) == {
        "contents": [{"uri": "data://greeting", "mimeType": "text/plain", "text": "hello"}]
    }  # fmt: skip
    blob = _run(lambda ex: registry.read_resource("data://logo.png", ex))["contents"][0]
    assert blob["mimeType"] == "image/png" and base64.b64decode(blob["blob"]).startswith(b"\x89PNG")
    config = _run(lambda ex: registry.read_resource("data://config", ex))["contents"][0]
    assert config == {"uri": "data://config", "mimeType": "application/json", "text": '{"retries":3}'}


def test_templates_match_and_convert_their_parts() -> None:
    registry = _server().registry
    assert (
        registry.list_resource_templates("2025-11-25")["resourceTemplates"][0]["uriTemplate"]
        == "weather://{city}/days/{n}"
    )
    read = _run(lambda ex: registry.read_resource("weather://paris/days/3", ex))
    assert read["contents"][0]["text"] == "paris for 6 half-days"
    with pytest.raises(InvalidParams, match="n"):
        _run(lambda ex: registry.read_resource("weather://paris/days/three", ex))
    with pytest.raises(ResourceNotFound):
        _run(lambda ex: registry.read_resource("weather://paris", ex))


def test_uri_template_forms() -> None:
    assert UriTemplate("file:///{+path}").match("file:///a/b/c.txt") == {"path": "a/b/c.txt"}
    assert UriTemplate("x://{a}/{b}").match("x://1/2%203") == {"a": "1", "b": "2 3"}
    assert UriTemplate("x://{a}").match("x://1/2") is None
    assert UriTemplate("x://search{?q,lang}").match("x://search?q=cats&lang=en") == {
        "q": "cats",
        "lang": "en",
    }


def test_template_parameters_must_match_the_function() -> None:
    server = MCPServer("t")
    with pytest.raises(ToolDefinitionError, match="no such parameter"):
        server.resource("x://{a}")(lambda: "x")
    with pytest.raises(ToolDefinitionError, match="not in the URI"):
        server.resource("x://fixed")(lambda a: a)
    with pytest.raises(ToolDefinitionError, match="scheme"):
        server.resource("no-scheme")(lambda: "x")


def test_prompts_are_listed_and_rendered() -> None:
    registry = _server().registry
    prompts = registry.list_prompts("2025-11-25")["prompts"]
    assert prompts[0] == {
        "name": "summarize",
        "description": "Summarize a text.",
        "arguments": [
            {"name": "text", "required": True, "description": "What to summarize."},
            {"name": "style", "required": False, "description": "How."},
        ],
    }
    got = _run(lambda ex: registry.get_prompt("summarize", {"text": "long story"}, ex))
    assert got["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Summarize (short): long story"}}
    ]
    chat = _run(lambda ex: registry.get_prompt("chat", {}, ex))["messages"]
    assert [m["role"] for m in chat] == ["user", "assistant", "user"]
    assert chat[1]["content"] == {"type": "text", "text": "I see"}
    assert chat[2]["content"]["type"] == "image"
    with pytest.raises(InvalidParams, match="text"):
        _run(lambda ex: registry.get_prompt("summarize", {}, ex))


def test_completions_for_prompts_and_templates() -> None:
    registry = _server().registry
    prompt_ref = {"type": "ref/prompt", "name": "summarize"}
    template_ref = {"type": "ref/resource", "uri": "weather://{city}/days/{n}"}
    assert asyncio.run(registry.complete(prompt_ref, {"name": "style", "value": "sh"}, {})) == [
        "short",
        "shiny",
    ]
    assert asyncio.run(registry.complete(template_ref, {"name": "city", "value": "p"}, {})) == [
        "paris",
        "pune",
    ]
    assert asyncio.run(registry.complete(prompt_ref, {"name": "text", "value": ""}, {})) == []
