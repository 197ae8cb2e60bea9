"""MCP content blocks, the helpers that build them, and the conversion of any return value.

``text()``, ``image()``, ``audio()``, ``resource()`` and ``resource_link()`` return
:class:`Content` (a dict, so it serialises as it is). Tools may also just return Python
values: strings become text, JSON-like values become ``structuredContent`` plus a JSON text
block, images (bytes, PIL, matplotlib) become image blocks.
"""

from __future__ import annotations

import base64
import contextlib
import io
import mimetypes
import sys
from typing import Any

import orjson
import pydantic_core

__all__ = [
    "Content",
    "as_base64",
    "audio",
    "image",
    "is_explicit_content",
    "jsonable",
    "resource",
    "resource_link",
    "sniff_image_mime",
    "text",
    "to_content",
]


class Content(dict[str, Any]):
    """One MCP content block (``{"type": "text", "text": ...}`` and so on)."""


def as_base64(data: bytes | str) -> str:
    """Base64 text for bytes; text is taken as already encoded."""
    return data if isinstance(data, str) else base64.b64encode(data).decode("ascii")


def _annotate(block: Content, annotations: dict[str, Any] | None, meta: dict[str, Any] | None) -> Content:
    if annotations:
        block["annotations"] = annotations
    if meta:
        block["_meta"] = meta
    return block


def text(
    value: str, *, annotations: dict[str, Any] | None = None, meta: dict[str, Any] | None = None
) -> Content:
    """A text block."""
    return _annotate(Content(type="text", text=str(value)), annotations, meta)


def image(
    data: bytes | str | Any,
    mime_type: str | None = None,
    *,
    annotations: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> Content:
    """An image block from raw bytes, base64 text, a PIL image or a matplotlib figure.

    The mime type is read from the bytes' magic number when not given.
    """
    if not isinstance(data, (bytes, bytearray, str)):
        data, mime_type = _render_image(data)
    if mime_type is None:
        mime_type = sniff_image_mime(bytes(data)) if not isinstance(data, str) else "image/png"
        if mime_type is None:
            raise ValueError("image(): cannot tell the image format; pass mime_type=")
    return _annotate(
        Content(
            type="image",
            data=as_base64(bytes(data) if not isinstance(data, str) else data),
            mimeType=mime_type,
        ),
        annotations,
        meta,
    )


def audio(
    data: bytes | str,
    mime_type: str = "audio/wav",
    *,
    annotations: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> Content:
    """An audio block from raw bytes or base64 text."""
    return _annotate(Content(type="audio", data=as_base64(data), mimeType=mime_type), annotations, meta)


def resource(
    uri: str,
    content: str | bytes,
    mime_type: str | None = None,
    *,
    annotations: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> Content:
    """An embedded resource: text when ``content`` is a ``str``, a base64 blob when bytes."""
    body: dict[str, Any] = {"uri": uri}
    if mime_type is None:
        mime_type = mimetypes.guess_type(uri)[0] or ("text/plain" if isinstance(content, str) else None)
    if mime_type:
        body["mimeType"] = mime_type
    if isinstance(content, str):
        body["text"] = content
    else:
        body["blob"] = as_base64(content)
    return _annotate(Content(type="resource", resource=body), annotations, meta)


def resource_link(
    uri: str,
    name: str,
    *,
    title: str | None = None,
    description: str | None = None,
    mime_type: str | None = None,
    size: int | None = None,
    annotations: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> Content:
    """A link to a resource the client may read with ``resources/read``."""
    block = Content(type="resource_link", uri=uri, name=name)
    for key, value in (
        ("title", title),
        ("description", description),
        ("mimeType", mime_type),
        ("size", size),
    ):
        if value is not None:
            block[key] = value
    return _annotate(block, annotations, meta)


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


def sniff_image_mime(data: bytes) -> str | None:
    """The image mime type of ``data`` from its first bytes, or ``None``."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.lstrip()[:5] in (b"<svg ", b"<?xml") and b"<svg" in data[:512]:
        return "image/svg+xml"
    return None


def _module_of(value: Any) -> str:
    return type(value).__module__ or ""


def _is_image_object(value: Any) -> bool:
    module = _module_of(value)
    if module.startswith("PIL."):
        return hasattr(value, "save")
    return _figure_of(value) is not None


def _figure_of(value: Any) -> Any:
    """The matplotlib figure of a figure, axes or artist (``df.plot()`` returns axes); else ``None``."""
    if not _module_of(value).startswith("matplotlib."):
        return None
    if hasattr(value, "savefig"):
        return value
    figure = getattr(value, "figure", None)
    return figure if hasattr(figure, "savefig") else None


def _release(figure: Any) -> None:
    """Close a pyplot-managed figure once rendered: pyplot would keep every call's figure alive,
    and a notebook's inline backend would show it under whatever cell runs next."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None and getattr(getattr(figure, "canvas", None), "manager", None) is not None:
        pyplot.close(figure)


def _render_image(value: Any) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    figure = _figure_of(value)
    if figure is not None:
        figure.savefig(buffer, format="png", bbox_inches="tight")
        _release(figure)
    elif hasattr(value, "save"):
        value.save(buffer, format="PNG")
    else:
        raise TypeError(f"cannot render {type(value).__name__} as an image")
    return buffer.getvalue(), "image/png"


def _fallback(value: Any) -> Any:
    """JSON for values pydantic-core does not know: numpy, pandas, and anything else by repr."""
    module = _module_of(value)
    if module.startswith("numpy"):
        return value.tolist() if hasattr(value, "tolist") else value.item()
    if module.startswith("pandas"):
        if hasattr(value, "columns") and hasattr(value, "to_json"):  # DataFrame: one object a row
            if not _plain_index(value):
                with contextlib.suppress(ValueError):  # a column already has the index's name
                    value = value.reset_index()
            return orjson.loads(value.to_json(orient="records", date_format="iso"))
        if hasattr(value, "index") and hasattr(value, "to_json"):  # Series: a list, or index -> value
            orient = "values" if _plain_index(value) else "index"
            return orjson.loads(value.to_json(orient=orient, date_format="iso"))
        if hasattr(value, "tolist"):  # Index, arrays
            return value.tolist()
        if hasattr(value, "isoformat"):
            return value.isoformat()
    return repr(value)


def _plain_index(value: Any) -> bool:
    """Whether a pandas object's index is just 0..n-1 (then it carries no information)."""
    index = value.index
    return (
        type(index).__name__ == "RangeIndex" and index.name is None and index.start == 0 and index.step == 1
    )


def _is_pandas_table(value: Any) -> bool:
    return _module_of(value).startswith("pandas") and hasattr(value, "to_string") and hasattr(value, "index")


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data (models, dataclasses, dates, numpy, pandas; repr otherwise)."""
    return pydantic_core.to_jsonable_python(value, fallback=_fallback, serialize_unknown=False)


def _as_block(value: Any) -> Content:
    if isinstance(value, Content):
        return value
    if isinstance(value, str):
        return text(value)
    if isinstance(value, (bytes, bytearray)) or _is_image_object(value):
        if isinstance(value, (bytes, bytearray)) and sniff_image_mime(bytes(value)) is None:
            return resource("data:application/octet-stream", bytes(value), "application/octet-stream")
        return image(value)
    return text(orjson.dumps(jsonable(value)).decode())


def _is_content_like(value: Any) -> bool:
    return isinstance(value, (Content, bytes, bytearray)) or _is_image_object(value)


def is_explicit_content(value: Any) -> bool:
    """Content blocks, images or bytes (alone or in a list): shown as they are, never as JSON."""
    if _is_content_like(value):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and any(_is_content_like(v) for v in value)


def to_content(value: Any) -> tuple[list[Content], Any]:
    """Content blocks for a return value, and its JSON data when it has a structured form.

    Returns:
        ``(blocks, data)`` where ``data`` is ``None`` for text, images and explicit content.
    """
    if value is None:
        return [], None
    if isinstance(value, str) or _is_content_like(value):
        return [_as_block(value)], None
    if isinstance(value, (list, tuple)) and value and any(_is_content_like(v) for v in value):
        return [_as_block(v) for v in value], None
    if _is_pandas_table(value):  # rows as data, and the table as a person reads it
        data = jsonable(value)
        return [text(value.to_string(max_rows=200))], data
    data = jsonable(value)
    if isinstance(data, str) and not isinstance(value, str) and data == repr(value):
        kind = type(value).__qualname__
        note = f"[nbmcp: a {kind} has no JSON form, so this is its repr(); return JSON-like data instead]"
        return [text(f"{data}\n\n{note}")], None
    return [text(orjson.dumps(data).decode())], data
