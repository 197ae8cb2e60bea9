"""Every tool, resource and prompt the MCP conformance suite's server scenarios call.

Served by the tests with ``nbmcp serve tests/conformance/everything_server.py``; written
as a user would write it, with nbmcp's public API only.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from nbmcp import Context, MCPServer, ToolError, audio, image, resource, text, user

server = MCPServer("nbmcp-everything", "1.0.0", instructions="Fixtures for the MCP conformance suite.")

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV = base64.b64decode("UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=")


# -- content -------------------------------------------------------------------------------


@server.tool
def test_simple_text() -> str:
    """Returns a simple text response."""
    return "This is a simple text response for testing."


@server.tool
def test_image_content() -> Any:
    """Returns a small PNG image."""
    return image(PNG, "image/png")


@server.tool
def test_audio_content() -> Any:
    """Returns a short WAV clip."""
    return audio(WAV, "audio/wav")


@server.tool
def test_embedded_resource() -> Any:
    """Returns an embedded text resource."""
    return resource("test://embedded-resource", "This is an embedded resource content.", "text/plain")


@server.tool
def test_multiple_content_types() -> list[Any]:
    """Returns text, an image and an embedded resource together."""
    return [
        text("Multiple content types test:"),
        image(PNG, "image/png"),
        resource(
            "test://mixed-content-resource", json.dumps({"test": "data", "value": 123}), "application/json"
        ),
    ]


@server.tool
def test_error_handling() -> str:
    """Always fails, to show how a tool error reaches the client."""
    raise ToolError("This tool intentionally returns an error for testing")


# -- talking back to the client while running ------------------------------------------------


@server.tool
async def test_tool_with_logging(ctx: Context) -> str:
    """Sends three log messages while it runs."""
    await ctx.info("Tool execution started")
    await asyncio.sleep(0.05)
    await ctx.info("Tool processing data")
    await asyncio.sleep(0.05)
    await ctx.info("Tool execution completed")
    return "Tool with logging executed successfully"


@server.tool
async def test_tool_with_progress(ctx: Context) -> str:
    """Reports progress 0, 50 and 100 out of 100."""
    for step in (0, 50, 100):
        await ctx.report_progress(step, 100, f"Completed step {step} of 100")
        if step < 100:
            await asyncio.sleep(0.05)
    return "Progress test completed"


@server.tool
async def test_sampling(prompt: str, ctx: Context) -> str:
    """Asks the client's model to complete a prompt.

    Args:
        prompt: The prompt to send to the model.
    """
    reply = await ctx.sample(prompt, max_tokens=100)
    content = reply.get("content", {})
    said = content.get("text", "") if isinstance(content, dict) else ""
    return f"LLM response: {said}"


@server.tool
async def test_elicitation(message: str, ctx: Context) -> str:
    """Asks the user for a name and an e-mail address.

    Args:
        message: What to ask the user.
    """
    schema = {
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    }
    reply = await ctx.elicit(message, schema)
    return f"User response: action={reply.get('action')}, content={json.dumps(reply.get('content', {}))}"


@server.tool
async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
    """Asks for a form whose fields all have defaults (SEP-1034)."""
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {
                "type": "string",
                "description": "User status",
                "enum": ["active", "inactive", "pending"],
                "default": "active",
            },
            "verified": {"type": "boolean", "description": "Verification status", "default": True},
        },
        "required": [],
    }
    reply = await ctx.elicit("Please review and update the form fields with defaults", schema)
    return (
        f"Elicitation completed: action={reply.get('action')}, content={json.dumps(reply.get('content', {}))}"
    )


@server.tool
async def test_elicitation_sep1330_enums(ctx: Context) -> str:
    """Asks for choices in every enum style (SEP-1330)."""
    schema = {
        "type": "object",
        "properties": {
            "untitledSingle": {
                "type": "string",
                "description": "Choose one option",
                "enum": ["option1", "option2", "option3"],
            },
            "titledSingle": {
                "type": "string",
                "description": "Choose one titled option",
                "oneOf": [
                    {"const": "value1", "title": "First Option"},
                    {"const": "value2", "title": "Second Option"},
                    {"const": "value3", "title": "Third Option"},
                ],
            },
            "legacyEnum": {
                "type": "string",
                "description": "Choose one (legacy)",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"],
            },
            "untitledMulti": {
                "type": "array",
                "description": "Choose several",
                "minItems": 1,
                "maxItems": 3,
                "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
            },
            "titledMulti": {
                "type": "array",
                "description": "Choose several titled options",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "anyOf": [
                        {"const": "value1", "title": "First Choice"},
                        {"const": "value2", "title": "Second Choice"},
                        {"const": "value3", "title": "Third Choice"},
                    ]
                },
            },
        },
        "required": [],
    }
    reply = await ctx.elicit("Please choose from the options", schema)
    return (
        f"Elicitation completed: action={reply.get('action')}, content={json.dumps(reply.get('content', {}))}"
    )


@server.tool
async def test_reconnection(ctx: Context) -> str:
    """Closes its stream mid-call; the client resumes and still gets the answer (SEP-1699)."""
    ctx.close_stream()
    await asyncio.sleep(0.1)
    return (
        "Reconnection test completed successfully. If you received this, "
        "the client properly reconnected after stream closure."
    )


_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


@server.tool(input_schema=_SCHEMA_2020_12, description="Tool with JSON Schema 2020-12 features")
def json_schema_2020_12_tool(
    name: str | None = None,
    address: dict[str, str] | None = None,
    contactMethod: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> str:
    args = {"name": name, "address": address, "contactMethod": contactMethod, "phone": phone, "email": email}
    return "JSON Schema 2020-12 tool called with: " + json.dumps(
        {k: v for k, v in args.items() if v is not None}
    )


# -- resources -------------------------------------------------------------------------------


@server.resource("test://static-text", name="static-text", mime_type="text/plain")
def static_text() -> str:
    """A static text resource."""
    return "This is the content of the static text resource."


@server.resource("test://static-binary", name="static-binary", mime_type="image/png")
def static_binary() -> bytes:
    """A static binary resource (a PNG image)."""
    return PNG


@server.resource("test://watched-resource", name="watched-resource", mime_type="text/plain")
def watched_resource() -> str:
    """A resource clients can subscribe to."""
    return "Watched resource content"


@server.resource(
    "test://template/{id}/data", name="template", title="Resource Template", mime_type="application/json"
)
def template_data(id: str) -> str:
    """Data for one id, from a URI template."""
    return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})


# -- prompts ---------------------------------------------------------------------------------


@server.prompt(description="A simple prompt without arguments")
def test_simple_prompt() -> str:
    return "This is a simple prompt for testing."


@server.prompt(
    description="A prompt with required arguments", completions={"arg1": ["test1", "test2", "other"]}
)
def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
    """A prompt with required arguments.

    Args:
        arg1: First test argument
        arg2: Second test argument
    """
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


@server.prompt(description="A prompt that includes an embedded resource")
def test_prompt_with_embedded_resource(resourceUri: str) -> list[Any]:
    """A prompt that includes an embedded resource.

    Args:
        resourceUri: URI of the resource to embed
    """
    return [
        user(resource(resourceUri, "Embedded resource content for testing.", "text/plain")),
        user("Please process the embedded resource above."),
    ]


@server.prompt(description="A prompt that includes image content")
def test_prompt_with_image() -> list[Any]:
    return [user(image(PNG, "image/png")), user("Please analyze the image above.")]


# -- 2026-07-28: the stateless wire's diagnostic tools (server-stateless, SEP-2575) -----------


@server.tool
async def test_missing_capability(ctx: Context) -> str:
    """Asks the client's model; a client that declared no ``sampling`` gets -32021 instead."""
    reply = await ctx.sample("Say hello.", max_tokens=20)
    return f"LLM response: {reply.get('content', {}).get('text', '')}"


@server.tool
async def test_streaming_elicitation(ctx: Context) -> str:
    """Reports progress, then asks the user to go on: the answer stream must carry no request."""
    await ctx.report_progress(0, 1, "Starting")
    schema = {"type": "object", "properties": {"proceed": {"type": "boolean"}}, "required": ["proceed"]}
    reply = await ctx.elicit("Proceed?", schema, key="proceed")
    await ctx.report_progress(1, 1, "Done")
    return f"Streaming elicitation completed: action={reply.get('action')}"


@server.tool
async def test_logging_tool(ctx: Context) -> str:
    """Logs twice: sent only to a client that asked for a log level."""
    await ctx.info("Logging tool started")
    await ctx.info("Logging tool finished")
    return "Logging tool executed"


@server.tool
async def test_trigger_tool_change() -> str:
    """Adds a tool and removes it again, so listening clients hear ``tools/list_changed``."""

    def test_ephemeral_tool() -> str:
        """Exists only while ``test_trigger_tool_change`` runs."""
        return "ephemeral"

    server.add_tool(test_ephemeral_tool, replace=True)
    server.remove_tool("test_ephemeral_tool")
    return "Tool list changed"


@server.tool
async def test_trigger_prompt_change() -> str:
    """Adds a prompt and removes it again, so listening clients hear ``prompts/list_changed``."""

    @server.prompt(name="test_ephemeral_prompt", description="Exists only for a moment", replace=True)
    def ephemeral() -> str:
        return "ephemeral"

    server.registry.remove_prompt("test_ephemeral_prompt")
    return "Prompt list changed"


@server.tool(headers={"region": "Region"})
def test_custom_header_tool(region: str) -> str:
    """Echoes the region; clients mirror it in the ``Mcp-Param-Region`` header (SEP-2243).

    Args:
        region: Where the request should be served.
    """
    return f"Region: {region}"


# -- 2026-07-28: multi round-trip requests (SEP-2322); the keys are the suite's ---------------

_NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def _content(reply: dict[str, Any]) -> dict[str, Any]:
    content = reply.get("content")
    return content if isinstance(content, dict) else {}


@server.tool
async def test_input_required_result_elicitation(ctx: Context) -> str:
    """Asks the user's name (key ``user_name``), then greets them."""
    reply = await ctx.elicit("What is your name?", _NAME, key="user_name")
    return f"Hello, {_content(reply).get('name', 'stranger')}!"


@server.tool
async def test_input_required_result_sampling(ctx: Context) -> str:
    """Asks the client's model for the capital of France (key ``capital_question``)."""
    reply = await ctx.sample("What is the capital of France?", max_tokens=100, key="capital_question")
    return f"LLM response: {_content(reply).get('text', '')}"


@server.tool
async def test_input_required_result_list_roots(ctx: Context) -> str:
    """Asks for the client's roots (key ``client_roots``) and names them."""
    reply = await ctx.list_roots(key="client_roots")
    return "Client roots: " + ", ".join(str(root.get("uri")) for root in reply.get("roots", []))


@server.tool
async def test_input_required_result_request_state(ctx: Context) -> str:
    """Asks for a confirmation (key ``confirm``); the answer comes back with the sealed state."""
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    reply = await ctx.elicit("Please confirm", schema, key="confirm")
    return f"state-ok: confirmed={_content(reply).get('ok')}"


@server.tool
async def test_input_required_result_multiple_inputs(ctx: Context) -> str:
    """Asks for a name, a greeting and the roots at once: one round with three requests."""
    name, greeting, roots = await asyncio.gather(
        ctx.elicit("What is your name?", _NAME, key="user_name"),
        ctx.sample("Generate a greeting", max_tokens=50, key="greeting"),
        ctx.list_roots(key="client_roots"),
    )
    return (
        f"name={_content(name).get('name')}, greeting={_content(greeting).get('text')}, "
        f"roots={len(roots.get('roots', []))}"
    )


@server.tool
async def test_input_required_result_multi_round(ctx: Context) -> str:
    """Asks for a name (``step1``), then for a colour (``step2``): two rounds, then the answer."""
    name = await ctx.elicit("Step 1: What is your name?", _NAME, key="step1")
    schema = {"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]}
    color = await ctx.elicit("Step 2: What is your favorite color?", schema, key="step2")
    return f"{_content(name).get('name')} likes {_content(color).get('color')}"


@server.tool
async def test_input_required_result_tampered_state(ctx: Context) -> str:
    """Asks for a confirmation with sealed state; a tampered state must be refused."""
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    reply = await ctx.elicit("Please confirm", schema, key="confirm")
    return f"confirmed={_content(reply).get('ok')}"


@server.tool
async def test_input_required_result_capabilities(ctx: Context) -> str:
    """Asks only what the client declared it can answer (elicitation, sampling, roots)."""
    caps = ctx.client_capabilities
    asks: list[Any] = []
    if "elicitation" in caps:
        asks.append(ctx.elicit("What is your name?", _NAME, key="user_name"))
    if "sampling" in caps:
        asks.append(ctx.sample("What is the capital of France?", max_tokens=100, key="capital_question"))
    if "roots" in caps:
        asks.append(ctx.list_roots(key="client_roots"))
    answers = await asyncio.gather(*asks)
    return f"Asked {len(answers)} question(s) the client can answer"


@server.prompt(description="A prompt that asks the user for its context first")
async def test_input_required_result_prompt(ctx: Context) -> str:
    """A prompt that asks the user which context to use (key ``user_context``)."""
    schema = {"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]}
    reply = await ctx.elicit("What context should the prompt use?", schema, key="user_context")
    return f"Use this context: {_content(reply).get('context', '')}"
