// tools.js: each tool with its numbers, and a "try it" form that asks the kernel to run the call.

const CALL_WAIT_MS = 180000;

function resultView(msg) {
  const parts = [];
  const ok = msg.ok === true;
  parts.push(h("div", { class: "nbmcp-result-head" },
    h("span", { class: `nbmcp-badge nbmcp-badge-${ok ? "ok" : "error"}`, text: ok ? "ok" : "error" }),
    msg.duration_ms !== undefined && msg.duration_ms !== null ? h("span", { class: "nbmcp-dur", text: fmtMs(msg.duration_ms) }) : null,
    msg.call_id ? h("span", { class: "nbmcp-muted" }, "call ", h("code", { text: msg.call_id })) : null));
  const result = msg.result || {};
  if (msg.error) parts.push(h("pre", { class: "nbmcp-pre nbmcp-error-text", text: msg.error }));
  if (result.structuredContent !== undefined) {
    parts.push(h("pre", { class: "nbmcp-pre nbmcp-result", text: pretty(result.structuredContent) }));
  } else {
    for (const block of result.content || []) {
      if (block.type === "text") parts.push(h("pre", { class: `nbmcp-pre ${ok ? "nbmcp-result" : "nbmcp-error-text"}`, text: block.text }));
      else if (block.type === "image" && block.data) parts.push(h("img", { class: "nbmcp-img", src: `data:${block.mimeType || "image/png"};base64,${block.data}`, alt: "image result" }));
      else parts.push(h("pre", { class: "nbmcp-pre", text: `[${block.type}]` }));
    }
  }
  if (msg.output) parts.push(h("div", { class: "nbmcp-label", text: "printed" }), h("pre", { class: "nbmcp-pre", text: msg.output }));
  return h("div", { class: `nbmcp-try-result nbmcp-try-${ok ? "ok" : "error"}` }, parts);
}

class ToolsPane {
  constructor(send) {
    this.send = send;
    this.entries = new Map();
    this.waiting = new Map();
    this.list = h("div", { class: "nbmcp-tools-list" });
    this.empty = h("div", { class: "nbmcp-empty", text: "No tools yet: a %%mcp_tool cell or @server.tool adds one." });
    this.node = h("section", { class: "nbmcp-pane nbmcp-tools" },
      h("header", { class: "nbmcp-pane-head" }, h("h3", { text: "Tools" })), this.empty, this.list);
  }

  entry(tool) {
    const numbers = {
      calls: h("span", { class: "nbmcp-num", "data-stat": "calls" }),
      errors: h("span", { class: "nbmcp-num", "data-stat": "errors" }),
      p95: h("span", { class: "nbmcp-num", "data-stat": "p95" }),
    };
    const description = h("div", { class: "nbmcp-desc" });
    const form = h("form", { class: "nbmcp-try", hidden: true });
    const toggle = h("button", { type: "button", class: "nbmcp-btn nbmcp-try-toggle", text: "Try it" });
    toggle.addEventListener("click", () => {
      form.hidden = !form.hidden;
      toggle.textContent = form.hidden ? "Try it" : "Close";
    });
    const node = h("div", { class: "nbmcp-tool", "data-tool": tool.name },
      h("div", { class: "nbmcp-tool-head" },
        h("span", { class: "nbmcp-tool-name", text: tool.name }),
        h("span", { class: "nbmcp-tool-nums" },
          h("span", { class: "nbmcp-muted", text: "calls " }), numbers.calls,
          h("span", { class: "nbmcp-muted", text: " errors " }), numbers.errors,
          h("span", { class: "nbmcp-muted", text: " p95 " }), numbers.p95),
        toggle),
      description, form);
    const entry = { node, numbers, description, form, schemaKey: null, built: null };
    form.addEventListener("submit", (event) => { event.preventDefault(); this.run(tool.name, entry); });
    return entry;
  }

  buildForm(entry, tool) {
    const built = schemaForm(tool.input_schema || {});
    const status = h("div", { class: "nbmcp-try-status", "aria-live": "polite" });
    const out = h("div", { class: "nbmcp-try-out" });
    const submit = h("button", { type: "submit", class: "nbmcp-btn nbmcp-primary", text: `Run ${tool.name}` });
    entry.form.replaceChildren(built.node, h("div", { class: "nbmcp-try-actions" }, submit, status), out);
    entry.built = { read: built.read, status, out, submit };
  }

  run(name, entry) {
    const { read, status, out, submit } = entry.built;
    let args;
    try { args = read(); } catch (e) { status.textContent = e.message; return; }
    const id = `try-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    status.textContent = "running\u2026";
    submit.disabled = true;
    const timer = setTimeout(() => {
      this.waiting.delete(id);
      submit.disabled = false;
      status.textContent = "no answer from the kernel (is it busy, or was it restarted?)";
    }, CALL_WAIT_MS);
    this.waiting.set(id, { status, out, submit, timer });
    this.send({ action: "call", id, tool: name, arguments: args });
  }

  onResult(msg) {
    const waiting = msg && this.waiting.get(msg.id);
    if (!waiting) return;  // another view's call
    this.waiting.delete(msg.id);
    clearTimeout(waiting.timer);
    waiting.submit.disabled = false;
    waiting.status.textContent = "";
    waiting.out.replaceChildren(resultView(msg));
  }

  update(tools) {
    const seen = new Set();
    let previous = null;
    for (const tool of tools) {
      seen.add(tool.name);
      let entry = this.entries.get(tool.name);
      if (!entry) { entry = this.entry(tool); this.entries.set(tool.name, entry); }
      setText(entry.numbers.calls, fmtCount(tool.calls));
      setText(entry.numbers.errors, fmtCount(tool.errors));
      entry.numbers.errors.classList.toggle("nbmcp-bad", tool.errors > 0);
      setText(entry.numbers.p95, fmtMs(tool.p95_ms));
      setText(entry.description, tool.title ? `${tool.title}: ${tool.description}` : tool.description);
      const key = JSON.stringify(tool.input_schema || {});
      if (entry.schemaKey !== key) { this.buildForm(entry, tool); entry.schemaKey = key; }
      const want = previous ? previous.nextSibling : this.list.firstChild;
      if (want !== entry.node) this.list.insertBefore(entry.node, want);
      previous = entry.node;
    }
    for (const [name, entry] of this.entries) {
      if (!seen.has(name)) { entry.node.remove(); this.entries.delete(name); }
    }
    this.empty.hidden = tools.length > 0;
  }

  dispose() {
    this.waiting.forEach((w) => clearTimeout(w.timer));
    this.waiting.clear();
  }
}
