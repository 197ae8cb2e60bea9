// panes.js: the header (server facts and counters), statistics, Action schema and connect panes.

const AUTH_WORDS = { none: "none", key: "API key", oauth: "OAuth", "oauth+key": "OAuth or API key" };

class HeaderPane {
  constructor() {
    this.title = h("span", { class: "nbmcp-title" });
    this.state = h("span", { class: "nbmcp-pill" });
    this.counters = {};
    const counter = (key, label) => {
      this.counters[key] = h("span", { class: "nbmcp-counter-value", "data-counter": key, text: "0" });
      return h("div", { class: `nbmcp-counter nbmcp-counter-${key}` }, this.counters[key], h("span", { class: "nbmcp-counter-label", text: label }));
    };
    this.facts = {};
    const fact = (key, label) => {
      this.facts[key] = h("span", { class: "nbmcp-fact-value", "data-fact": key });
      return h("div", { class: "nbmcp-fact" }, h("span", { class: "nbmcp-fact-label", text: label }), this.facts[key]);
    };
    this.copyUrl = copyButton(() => this.urlText || "");
    this.node = h("header", { class: "nbmcp-head" },
      h("div", { class: "nbmcp-head-top" }, h("span", { class: "nbmcp-logo", text: "nbmcp" }), this.title, this.state,
        h("span", { class: "nbmcp-spacer" }),
        counter("calls", "calls"), counter("errors", "errors"), counter("in_flight", "in flight"), counter("clients", "clients")),
      h("div", { class: "nbmcp-facts" },
        h("div", { class: "nbmcp-fact nbmcp-fact-url" }, h("span", { class: "nbmcp-fact-label", text: "local" }),
          (this.facts.url = h("code", { class: "nbmcp-fact-value", "data-fact": "url" })), this.copyUrl),
        fact("public_url", "public"), fact("auth", "auth"), fact("uptime", "uptime"), fact("tunnel", "tunnel")));
    this.started = null;
  }

  update(server, totals) {
    if (server) {
      setText(this.title, server.name);
      setText(this.state, server.url ? "serving" : server.state === "stopped" ? "stopped" : "not started");
      this.state.className = `nbmcp-pill nbmcp-pill-${server.url ? "on" : "off"}`;
      this.urlText = server.url || "";
      setText(this.facts.url, server.url || "not serving: %mcp start");
      this.copyUrl.hidden = !server.url;
      setText(this.facts.public_url, server.public_url || "not published (%mcp publish)");
      setText(this.facts.auth, AUTH_WORDS[server.auth_mode] || server.auth_mode);
      const tunnel = server.tunnel_state === "none" ? "none" : server.tunnel_state + (server.publish_note ? `: ${server.publish_note}` : "");
      setText(this.facts.tunnel, tunnel);
      this.facts.tunnel.classList.toggle("nbmcp-bad", server.tunnel_state === "down");
      setText(this.counters.clients, fmtCount(server.sessions));
      this.started = server.started;
      this.tickUptime();
    }
    if (totals) {
      setText(this.counters.calls, fmtCount(totals.total_calls));
      setText(this.counters.errors, fmtCount(totals.errors));
      setText(this.counters.in_flight, fmtCount(totals.in_flight));
      this.counters.errors.classList.toggle("nbmcp-bad", totals.errors > 0);
    }
  }

  tickUptime() {
    setText(this.facts.uptime, this.started ? fmtDuration(Date.now() / 1000 - this.started) : "\u2013");
  }
}

class StatsPane {
  constructor() {
    this.timeline = h("div", { class: "nbmcp-chart-box" });
    this.perMinute = h("div", { class: "nbmcp-chart-box" });
    this.latency = h("div", { class: "nbmcp-chart-box" });
    this.clients = h("div", { class: "nbmcp-clients" });
    this.node = h("section", { class: "nbmcp-pane nbmcp-stats-pane" },
      h("div", { class: "nbmcp-chart-card" }, h("h4", { text: "Calls, last two minutes" }), this.timeline),
      h("div", { class: "nbmcp-chart-card" }, h("h4", { text: "Calls per minute, last hour" }), this.perMinute),
      h("div", { class: "nbmcp-chart-card" }, h("h4", { text: "Latency per tool" }), this.latency),
      h("div", { class: "nbmcp-chart-card" }, h("h4", { text: "Clients" }), this.clients));
  }

  update(model) {
    const timeline = model.get("timeline");
    if (timeline && timeline.calls) this.timeline.replaceChildren(timelineChart(timeline));
    this.perMinute.replaceChildren(perMinuteChart(model.get("per_minute") || []));
    this.latency.replaceChildren(latencyChart(model.get("tools") || []));
    const clients = Object.entries(model.get("clients") || {});
    if (!clients.length) { this.clients.replaceChildren(h("div", { class: "nbmcp-muted", text: "no client calls yet" })); return; }
    clients.sort((a, b) => (b[1].calls || 0) - (a[1].calls || 0));
    this.clients.replaceChildren(h("table", { class: "nbmcp-table" },
      h("thead", {}, h("tr", {}, ["client", "principal", "calls", "errors"].map((t) => h("th", { text: t })))),
      h("tbody", {}, clients.map(([key, c]) => h("tr", {},
        h("td", { text: c.name || "(no client info: REST, notebook, plain POSTs)" }), h("td", { text: c.principal || "\u2013" }),
        h("td", { class: "nbmcp-num", text: fmtCount(c.calls) }), h("td", { class: `nbmcp-num${c.errors ? " nbmcp-bad" : ""}`, text: fmtCount(c.errors) }))))));
  }
}

class SchemaPane {
  constructor() {
    this.body = h("div", {});
    this.node = h("section", { class: "nbmcp-pane nbmcp-schema-pane" }, this.body);
  }

  update(schema) {
    if (!schema) return;
    if (schema.error) { this.body.replaceChildren(h("div", { class: "nbmcp-bad", text: schema.error })); return; }
    const text = JSON.stringify(schema.document, null, 2);
    const findings = schema.findings || [];
    const errors = findings.filter((f) => f.severity === "error").length;
    const warnings = findings.filter((f) => f.severity === "warning").length;
    const servers = (schema.document && schema.document.servers) || [];
    this.body.replaceChildren(
      h("div", { class: "nbmcp-pane-head" },
        h("span", {}, h("b", { text: "ChatGPT Action schema" }), ` \u00b7 ${schema.operations} operation(s) \u00b7 server `, h("code", { text: servers.length ? servers[0].url : "(none)" }),
          ` \u00b7 ${errors} error(s), ${warnings} warning(s)`),
        h("span", { class: "nbmcp-spacer" }),
        copyButton(() => text, "Copy"),
        h("button", { type: "button", class: "nbmcp-btn", text: "Download", onclick: () => download("openapi.json", text, "application/json") })),
      findings.length
        ? h("ul", { class: "nbmcp-findings" }, findings.map((f) => h("li", { class: `nbmcp-finding-${f.severity}` }, h("b", { text: f.severity }), " ", h("code", { text: f.where }), `: ${f.message}`)))
        : h("div", { class: "nbmcp-ok", text: "No findings: paste it into ChatGPT (Configure \u203a Actions \u203a Create new action \u203a Schema)." }),
      h("pre", { class: "nbmcp-pre nbmcp-schema-text", text }));
  }
}

class ConnectPane {
  constructor() {
    this.body = h("div", {});
    this.node = h("section", { class: "nbmcp-pane nbmcp-connect-pane" }, this.body);
  }

  update(connect) {
    if (!connect) return;
    if (connect.error) { this.body.replaceChildren(h("div", { class: "nbmcp-bad", text: connect.error })); return; }
    this.body.replaceChildren(...connect.clients.map((c) => h("div", { class: "nbmcp-connect-entry", "data-client": c.id },
      h("div", { class: "nbmcp-pane-head" }, h("b", { text: c.title }), h("code", { class: "nbmcp-muted", text: c.id }),
        c.file ? h("span", { class: "nbmcp-muted" }, "\u2192 ", h("code", { text: c.file })) : null,
        h("span", { class: "nbmcp-spacer" }), copyButton(() => c.snippet)),
      c.steps.length ? h("ol", { class: "nbmcp-steps" }, c.steps.map((s) => h("li", { text: s }))) : null,
      h("pre", { class: "nbmcp-pre", "data-format": c.format, text: c.snippet }))));
  }
}
