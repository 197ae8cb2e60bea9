"""From Python functions to MCP tools, resources and prompts.

Schemas come from type hints (pydantic), descriptions from docstrings; sync, async and
generator functions are all callable; return values become MCP content. Above the
protocol core, below HTTP.
"""

from nbmcp.tools.content import Content, audio, image, resource, resource_link, text
from nbmcp.tools.context import Context, Reply
from nbmcp.tools.prompts import Prompt, assistant, user
from nbmcp.tools.registry import Registry
from nbmcp.tools.resources import Resource
from nbmcp.tools.tool import Tool

__all__ = [
    "Content",
    "Context",
    "Prompt",
    "Registry",
    "Reply",
    "Resource",
    "Tool",
    "assistant",
    "audio",
    "image",
    "resource",
    "resource_link",
    "text",
    "user",
]
