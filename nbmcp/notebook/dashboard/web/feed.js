// feed.js: the live call feed, newest first; rows keyed by call id so an open row stays open.

function callBody(row) {
  const parts = [
    h("div", { class: "nbmcp-call-meta" },
      h("span", {}, "id ", h("code", { text: row.id })),
      row.session_id ? h("span", {}, "session ", h("code", { text: row.session_id.slice(0, 12) })) : null,
      row.principal ? h("span", {}, "principal ", h("code", { text: row.principal })) : null,
      row.client ? h("span", {}, "client ", h("code", { text: `${row.client.name} ${row.client.version || ""}`.trim() })) : null,
      h("span", {}, "via ", h("code", { text: row.transport })),
    ),
    h("div", { class: "nbmcp-label", text: "arguments" }),
    h("pre", { class: "nbmcp-pre nbmcp-args", text: row.arguments }),
  ];
  if (row.state === "running") {
    parts.push(h("div", { class: "nbmcp-label", text: "running\u2026" }));
  } else if (row.error) {
    parts.push(h("div", { class: "nbmcp-label", text: "error" }), h("pre", { class: "nbmcp-pre nbmcp-error-text", text: row.error }));
  } else {
    parts.push(h("div", { class: "nbmcp-label", text: "result" }), h("pre", { class: "nbmcp-pre nbmcp-result", text: row.summary || "" }));
  }
  if (row.output) parts.push(h("div", { class: "nbmcp-label", text: "printed" }), h("pre", { class: "nbmcp-pre", text: row.output }));
  return h("div", { class: "nbmcp-call-body" }, parts);
}

function callSummary(row) {
  const who = row.client ? row.client.name : row.transport;
  return h("summary", {},
    h("span", { class: "nbmcp-when", text: fmtClock(row.started) }),
    h("span", { class: `nbmcp-badge nbmcp-badge-${row.state}`, text: row.state === "running" ? "in flight" : row.state }),
    h("span", { class: "nbmcp-call-tool", text: row.tool }),
    h("span", { class: "nbmcp-dur", text: row.state === "running" ? "\u2026" : fmtMs(row.duration_ms) }),
    h("span", { class: "nbmcp-who", text: who }),
    h("span", { class: "nbmcp-sum", text: row.state === "error" ? (row.error || "").split("\n")[0] : row.summary || "" }),
  );
}

class FeedPane {
  constructor() {
    this.entries = new Map();
    this.tool = "";
    this.errorsOnly = false;
    this.select = h("select", { class: "nbmcp-filter", "aria-label": "filter by tool" }, h("option", { value: "", text: "all tools" }));
    this.select.addEventListener("change", () => { this.tool = this.select.value; this.applyFilter(); });
    this.errors = h("input", { type: "checkbox", class: "nbmcp-errors-only" });
    this.errors.addEventListener("change", () => { this.errorsOnly = this.errors.checked; this.applyFilter(); });
    this.shown = h("span", { class: "nbmcp-muted" });
    this.list = h("div", { class: "nbmcp-feed-list", role: "list" });
    this.empty = h("div", { class: "nbmcp-empty", text: "No calls yet: call a tool from a client, or try one in Tools." });
    this.node = h("section", { class: "nbmcp-pane nbmcp-feed" },
      h("header", { class: "nbmcp-pane-head" },
        h("h3", { text: "Live calls" }), this.shown,
        h("span", { class: "nbmcp-spacer" }),
        this.select, h("label", { class: "nbmcp-check" }, this.errors, " errors only"),
      ),
      this.empty, this.list);
  }

  setTools(names) {
    const have = Array.from(this.select.options).slice(1).map((o) => o.value);
    if (have.join("\n") === names.join("\n")) return;
    while (this.select.options.length > 1) this.select.remove(1);
    for (const name of names) this.select.append(h("option", { value: name, text: name }));
    if (names.includes(this.tool)) this.select.value = this.tool;
    else { this.tool = ""; this.select.value = ""; }
  }

  update(rows) {
    const seen = new Set();
    let previous = null;
    for (const row of rows) {
      seen.add(row.id);
      const key = `${row.state}|${row.duration_ms}`;
      let entry = this.entries.get(row.id);
      if (!entry) {
        const node = h("details", { class: "nbmcp-call", role: "listitem" });
        entry = { node, key: null, row };
        this.entries.set(row.id, entry);
      }
      if (entry.key !== key) {
        const open = entry.node.open;
        entry.node.replaceChildren(callSummary(row), callBody(row));
        entry.node.open = open;
        entry.node.dataset.id = row.id;
        entry.node.dataset.tool = row.tool;
        entry.node.dataset.state = row.state;
        entry.node.className = `nbmcp-call nbmcp-call-${row.state}`;
        entry.key = key;
        entry.row = row;
      }
      const want = previous ? previous.nextSibling : this.list.firstChild;
      if (want !== entry.node) this.list.insertBefore(entry.node, want);
      previous = entry.node;
    }
    for (const [id, entry] of this.entries) {
      if (!seen.has(id)) { entry.node.remove(); this.entries.delete(id); }
    }
    this.applyFilter();
  }

  applyFilter() {
    let visible = 0;
    for (const entry of this.entries.values()) {
      const row = entry.row;
      const show = (!this.tool || row.tool === this.tool) && (!this.errorsOnly || row.state === "error");
      entry.node.hidden = !show;
      visible += show;
    }
    this.empty.hidden = this.entries.size > 0;
    setText(this.shown, this.entries.size ? `${visible} shown` : "");
  }
}
