// main.js: the view. It lays out the panes, redraws each from the model's state as it changes,
// and routes the kernel's custom messages (the "try it" results) to the tools pane.

function render({ model, el }) {
  const header = new HeaderPane();
  const feed = new FeedPane();
  const tools = new ToolsPane((content) => model.send(content));
  const stats = new StatsPane();
  const schema = new SchemaPane();
  const connect = new ConnectPane();
  const footer = h("footer", { class: "nbmcp-foot" });

  const overview = h("div", { class: "nbmcp-overview" }, feed.node, tools.node);
  const tabs = [
    ["calls", "Calls & tools", overview],
    ["stats", "Statistics", stats.node],
    ["schema", "Action schema", schema.node],
    ["connect", "Connect", connect.node],
  ];
  const bar = h("nav", { class: "nbmcp-tabs", role: "tablist" });
  const bodies = h("div", { class: "nbmcp-tab-bodies" });
  const select = (name) => {
    for (const [key, , body] of tabs) {
      body.hidden = key !== name;
      bar.querySelector(`[data-tab="${key}"]`).setAttribute("aria-selected", String(key === name));
    }
  };
  for (const [key, label, body] of tabs) {
    bar.append(h("button", { type: "button", class: "nbmcp-tab", role: "tab", "data-tab": key, text: label }));
    bodies.append(body);
  }
  const root = h("div", { class: "nbmcp-dashboard" }, header.node, bar, bodies, footer);
  el.appendChild(root);
  select("calls");

  let current = "calls";
  const redraw = {
    facts: () => header.update(model.get("facts"), null),
    totals: () => header.update(null, model.get("totals")),
    feed: () => feed.update(model.get("feed") || []),
    tools: () => {
      const list = model.get("tools") || [];
      tools.update(list);
      feed.setTools(list.map((t) => t.name));
    },
    stats: () => stats.update(model),
    schema: () => schema.update(model.get("schema")),
    connect: () => connect.update(model.get("connect")),
    meta: () => {
      const meta = model.get("meta") || {};
      setText(footer, `live \u00b7 update ${fmtCount(meta.seq)} at ${fmtClock(Date.now() / 1000)} \u00b7 at most ${meta.hz || 10} a second`);
      root.dataset.seq = String(meta.seq || 0);
    },
  };
  const drawnBy = { timeline: "stats", per_minute: "stats", clients: "stats", tools: ["tools", "stats"] };
  // Each trait that changed marks its pane; one animation frame redraws each marked pane once
  // (an update carries several traits), and a hidden chart waits until its tab is shown.
  const pending = new Set(Object.keys(redraw));
  let frame = null;
  const flush = () => {
    frame = null;
    for (const name of Array.from(pending)) {
      if (name === "stats" && current !== "stats") continue;
      pending.delete(name);
      redraw[name]();
    }
  };
  const mark = (name) => {
    for (const pane of [].concat(drawnBy[name] || name)) pending.add(pane);
    if (frame === null) frame = requestAnimationFrame(flush);
  };
  const onTab = (name) => { current = name; select(name); flush(); };
  bar.querySelectorAll("[data-tab]").forEach((b) => { b.onclick = () => onTab(b.dataset.tab); });
  const handlers = [];
  for (const name of ["facts", "totals", "feed", "tools", "timeline", "per_minute", "clients", "schema", "connect", "meta"]) {
    const handler = () => mark(name);
    model.on(`change:${name}`, handler);
    handlers.push([`change:${name}`, handler]);
  }
  const onMessage = (msg) => { if (msg && msg.action === "result") tools.onResult(msg); };
  model.on("msg:custom", onMessage);
  flush();
  const clock = setInterval(() => header.tickUptime(), 1000);

  return () => {
    clearInterval(clock);
    if (frame !== null) cancelAnimationFrame(frame);
    for (const [event, handler] of handlers) model.off(event, handler);
    model.off("msg:custom", onMessage);
    tools.dispose();
  };
}

export default { render };
