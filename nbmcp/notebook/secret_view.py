"""The owner key in a notebook: shown masked; revealed or copied only through the live kernel.

A saved notebook keeps every cell output and, in JupyterLab and nbclient, every widget's synced
state (in the notebook's metadata), so the key is neither an output nor a trait. What is saved
is the masked key (its last four characters). The view's Reveal and Copy buttons send a custom
widget message (``{"action": "reveal" | "copy", "id": ...}``) to the kernel; the kernel answers
with a custom message holding the key, looked up at that moment (a rotated key shows the new
one). The view shows the key for ``reveal_seconds`` and masks it again, or writes it to the
clipboard. Custom messages pass through the kernel's IOPub channel and are never written to a
notebook file. The script is inline: no CDN, so it works offline and on Binder.

Where ipywidgets or anywidget is missing, or a frontend shows only ``text/plain`` (a terminal,
nbconvert), the display is one masked line and how to reach the key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbmcp.notebook.commands import mask

if TYPE_CHECKING:
    from nbmcp.server import MCPServer

__all__ = ["REVEAL_SECONDS", "KeySource", "OwnerKey", "owner_key_view"]

KeySource = Callable[[], str | None]
"""Returns the current key (``None``: no key is set); called each time the view asks."""

REVEAL_SECONDS = 30.0
"""How long Reveal shows the key before the view masks it again."""

_ACTIONS = ("reveal", "copy")

_CLIPBOARD = Path(__file__).parent / "dashboard" / "web" / "clipboard.js"

_ESM = r"""
const ASK_MS = 8000;

async function toClipboard(keyPromise) {
  const clip = navigator.clipboard;
  if (clip && clip.write && typeof ClipboardItem !== "undefined") {
    try {  // a promised item keeps the click's permission while the kernel answers (Safari needs it)
      const blob = keyPromise.then((k) => new Blob([k], { type: "text/plain" }));
      await clip.write([new ClipboardItem({ "text/plain": blob })]);
      return true;
    } catch (e) { /* older browsers: write the text once it is here */ }
  }
  const key = await keyPromise;
  if (clip && clip.writeText) {
    try { await clip.writeText(key); return true; } catch (e) { /* refused: the old way */ }
  }
  return legacyCopy(key);
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "nbmcp-owner-key";
  const label = document.createElement("span");
  label.textContent = "owner key";
  const code = document.createElement("code");
  const reveal = document.createElement("button");
  const copy = document.createElement("button");
  copy.textContent = "Copy";
  const status = document.createElement("span");
  status.className = "nbmcp-status";
  status.setAttribute("aria-live", "polite");
  root.append(label, code, reveal, copy, status);
  el.appendChild(root);

  const waiting = new Map();
  let hideTimer = null;
  let shown = false;
  const mask = () => {
    clearTimeout(hideTimer);
    shown = false;
    code.textContent = model.get("masked");
    reveal.textContent = "Reveal";
  };
  const onMasked = () => { if (!shown) code.textContent = model.get("masked"); };
  const onMessage = (msg) => {
    const entry = msg && waiting.get(msg.id);
    if (!entry) return;  // another view's answer
    waiting.delete(msg.id);
    clearTimeout(entry.timer);
    if (typeof msg.key === "string") entry.resolve(msg.key);
    else entry.reject(new Error(msg.error || "the kernel sent no key"));
  };
  const ask = (action) => new Promise((resolve, reject) => {
    const id = action + "-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error("no answer from the kernel: run this cell again"));
    }, ASK_MS);
    waiting.set(id, { resolve, reject, timer });
    model.send({ action, id });
  });
  const show = (key, note) => {
    clearTimeout(hideTimer);
    shown = true;
    code.textContent = key;
    reveal.textContent = "Hide";
    status.textContent = note;
    hideTimer = setTimeout(() => { mask(); status.textContent = ""; }, model.get("reveal_seconds") * 1000);
  };
  reveal.addEventListener("click", () => {
    if (shown) { mask(); status.textContent = ""; return; }
    status.textContent = "asking the kernel\u2026";
    ask("reveal").then(
      (key) => show(key, "shown for " + model.get("reveal_seconds") + " s; never saved"),
      (err) => { status.textContent = err.message; },
    );
  });
  copy.addEventListener("click", () => {
    status.textContent = "asking the kernel\u2026";
    const key = ask("copy");
    toClipboard(key).then(
      (ok) => {
        if (ok) { status.textContent = "copied"; return; }
        key.then((k) => {
          show(k, "the browser refused the clipboard: select the key and copy it");
          const range = document.createRange();
          range.selectNodeContents(code);
          const selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        });
      },
      (err) => { status.textContent = err.message; },
    );
  });
  model.on("change:masked", onMasked);
  model.on("msg:custom", onMessage);
  mask();
  return () => {
    model.off("change:masked", onMasked);
    model.off("msg:custom", onMessage);
    clearTimeout(hideTimer);
    waiting.forEach((entry) => clearTimeout(entry.timer));
    waiting.clear();
    code.textContent = "";
  };
}

export default { render };
"""

_CSS = """
.nbmcp-owner-key { display: flex; gap: 0.5em; align-items: center; flex-wrap: wrap; font-size: 13px; }
.nbmcp-owner-key code { font-family: var(--jp-code-font-family, monospace); user-select: all; }
.nbmcp-owner-key button { cursor: pointer; }
.nbmcp-owner-key .nbmcp-status { color: var(--jp-ui-font-color2, #666); }
"""


@functools.cache
def _widget_class() -> type[Any]:
    """The widget class, made on first use (imports anywidget and ipywidgets; ImportError without)."""
    import anywidget
    import traitlets

    class OwnerKeyWidget(anywidget.AnyWidget):
        """The masked key and two buttons; the key itself travels only in answers to the buttons."""

        _esm = _CLIPBOARD.read_text(encoding="utf-8") + _ESM  # legacyCopy, shared with the dashboard
        _css = _CSS
        masked = traitlets.Unicode("").tag(sync=True)
        reveal_seconds = traitlets.Float(REVEAL_SECONDS).tag(sync=True)

        def __init__(self, key: KeySource, **kwargs: Any) -> None:
            self._key_source = key
            super().__init__(masked=mask(key()), **kwargs)  # in the comm_open state: no update follows
            self.on_msg(self._answer)

        def _answer(self, _widget: Any, content: Any, _buffers: Any) -> None:
            if not isinstance(content, dict) or content.get("action") not in _ACTIONS:
                return
            asked = content.get("id")
            reply: dict[str, Any] = {
                "action": content["action"],
                "id": asked if isinstance(asked, str) else None,
            }
            try:
                key = self._key_source()
            except Exception:  # a comm handler's error goes to the kernel log only; say it on the view
                key, reply["error"] = None, "could not read the key (see the kernel log)"
            if key:
                self.masked = mask(key)
                reply["key"] = key
            else:
                reply.setdefault("error", "no owner key is set")
            self.send(reply)

    return OwnerKeyWidget


class OwnerKey:
    """What a cell shows for the owner key: a widget where widgets work, else one masked line.

    Args:
        key: Returns the current key; called when shown and at each Reveal or Copy.
        note: Where the key comes from (``"generated for this kernel"``), shown after it.
        reveal_seconds: How long Reveal shows the key.
    """

    def __init__(self, key: KeySource, *, note: str = "", reveal_seconds: float = REVEAL_SECONDS) -> None:
        self._key = key
        self.note = note
        self.reveal_seconds = reveal_seconds
        self._widget: Any = None

    @classmethod
    def of(cls, server: MCPServer, *, reveal_seconds: float = REVEAL_SECONDS) -> OwnerKey:
        """The owner key of ``server`` (``server.access_key``, looked up each time)."""
        generated = server.oauth is not None and server.oauth.generated_key is not None
        note = "generated for this kernel" if generated else "yours"
        return cls(lambda: server.access_key, note=note, reveal_seconds=reveal_seconds)

    @property
    def widget(self) -> Any:
        """The live widget once shown (``None`` before, or where ipywidgets/anywidget is missing)."""
        return self._widget

    def text(self) -> str:
        """The ``text/plain`` form: the masked key and how to reach the key itself."""
        note = f" ({self.note})" if self.note else ""
        return "\n".join(
            [
                f"nbmcp: owner key {mask(self._key())}{note}",
                "  server.access_key (here nbmcp.current_server().access_key) returns it; that cell's",
                "  output is saved: print it only if you will not save the notebook",
                "  a key of your own: set NBMCP_API_KEY in the environment Jupyter starts from",
            ]
        )

    def __repr__(self) -> str:
        return self.text()

    def _build(self) -> Any:
        if self._widget is None:
            try:
                cls = _widget_class()
            except ImportError:
                return None
            self._widget = cls(self._key, reveal_seconds=self.reveal_seconds)
        return self._widget

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget's view plus the masked ``text/plain``; only the text without widgets."""
        widget = self._build()
        if widget is None:
            return {"text/plain": self.text()}, {}
        data, metadata = widget._repr_mimebundle_()  # anywidget's: the view's model id (Colab: metadata)
        return {**data, "text/plain": self.text()}, metadata


def owner_key_view(key: KeySource, *, note: str = "", reveal_seconds: float = REVEAL_SECONDS) -> OwnerKey:
    """The owner key display for ``key`` (return it from a magic, or ``display`` it)."""
    return OwnerKey(key, note=note, reveal_seconds=reveal_seconds)
