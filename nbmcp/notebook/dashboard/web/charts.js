// charts.js: the statistics as inline SVG (calls over time, latency per tool), drawn here.

function niceMax(value) {
  if (value <= 0) return 1;
  const step = Math.pow(10, Math.floor(Math.log10(value)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

// Bars of calls over time, errors stacked in red; `label(i)` names bucket i under the axis.
function barChart({ calls, errors, label, every, title, unit }) {
  const W = 360, H = 140, left = 30, bottom = 18, top = 8;
  const n = calls.length;
  const max = niceMax(Math.max(0, ...calls));
  const plotW = W - left - 6, plotH = H - top - bottom;
  const slot = plotW / Math.max(1, n);
  const bar = Math.max(1, slot * 0.8);
  const y = (v) => top + plotH - (v / max) * plotH;
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, class: "nbmcp-chart", role: "img", "aria-label": title,
    preserveAspectRatio: "xMinYMin meet",
  });
  for (const frac of [0, 0.5, 1]) {
    const v = max * frac;
    root.append(
      svg("line", { x1: left, x2: W - 6, y1: y(v), y2: y(v), class: "nbmcp-grid-line" }),
      svg("text", { x: left - 4, y: y(v) + 3, "text-anchor": "end", class: "nbmcp-axis", text: String(+v.toFixed(1)) }),
    );
  }
  calls.forEach((count, i) => {
    const x = left + i * slot + (slot - bar) / 2;
    const bad = Math.min(errors[i] || 0, count);
    const good = count - bad;
    const tip = `${label(i)}: ${count} call${count === 1 ? "" : "s"}${bad ? `, ${bad} failed` : ""}`;
    if (good > 0) root.append(svg("rect", { x, y: y(count), width: bar, height: y(bad) - y(count), class: "nbmcp-bar-ok" }, svg("title", { text: tip })));
    if (bad > 0) root.append(svg("rect", { x, y: y(bad), width: bar, height: y(0) - y(bad), class: "nbmcp-bar-err" }, svg("title", { text: tip })));
    if (i % every === 0 || i === n - 1) {
      const anchor = i === n - 1 ? "end" : i === 0 ? "start" : "middle";
      const at = i === n - 1 ? x + bar : i === 0 ? x : x + bar / 2;
      root.append(svg("text", { x: at, y: H - 6, "text-anchor": anchor, class: "nbmcp-axis", text: label(i) }));
    }
  });
  root.append(svg("text", { x: left, y: top + 2, class: "nbmcp-axis", "dominant-baseline": "hanging", text: unit || "" }));
  return root;
}

function timelineChart(timeline) {
  const n = timeline.calls.length;
  const step = timeline.bucket_s;
  const label = (i) => {
    const ago = (n - 1 - i) * step;
    return ago === 0 ? "now" : `-${ago}s`;
  };
  return barChart({ calls: timeline.calls, errors: timeline.errors, label, every: 6, title: "calls over the last two minutes", unit: `calls / ${step} s` });
}

function perMinuteChart(perMinute) {
  const rows = perMinute.slice(-60);
  const label = (i) => {
    const when = new Date(rows[i].minute);
    return isNaN(when) ? "" : `${String(when.getHours()).padStart(2, "0")}:${String(when.getMinutes()).padStart(2, "0")}`;
  };
  return barChart({
    calls: rows.map((r) => r.calls || 0), errors: rows.map((r) => r.errors || 0),
    label, every: 10, title: "calls per minute over the last hour", unit: "calls / min",
  });
}

// Per tool: three bars, p50 / p95 / p99, on one scale.
function latencyChart(tools) {
  const shown = tools.filter((t) => t.p99_ms !== null && t.p99_ms !== undefined);
  const rowH = 36, left = 96, W = 360;
  const H = Math.max(1, shown.length) * rowH + 22;
  const max = niceMax(Math.max(0, ...shown.map((t) => t.p99_ms)));
  const x = (v) => left + (v / max) * (W - left - 78);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "nbmcp-chart", role: "img", "aria-label": "latency per tool" });
  if (!shown.length) {
    root.append(svg("text", { x: 8, y: 20, class: "nbmcp-axis", text: "no calls yet" }));
    return root;
  }
  shown.forEach((tool, i) => {
    const y0 = 6 + i * rowH;
    root.append(svg("text", { x: left - 6, y: y0 + 15, "text-anchor": "end", class: "nbmcp-axis nbmcp-axis-name", text: tool.name.length > 14 ? tool.name.slice(0, 13) + "\u2026" : tool.name }));
    [["p50", tool.p50_ms], ["p95", tool.p95_ms], ["p99", tool.p99_ms]].forEach(([name, v], j) => {
      const value = v || 0;
      root.append(
        svg("rect", { x: left, y: y0 + j * 9, width: Math.max(1, x(value) - left), height: 7, class: `nbmcp-bar-${name}` }, svg("title", { text: `${tool.name} ${name}: ${fmtMs(v)}` })),
        svg("text", { x: x(value) + 4, y: y0 + j * 9 + 7, class: "nbmcp-axis", text: `${name} ${fmtMs(v)}` }),
      );
    });
  });
  root.append(svg("text", { x: left, y: H - 4, class: "nbmcp-axis", text: `scale 0 \u2013 ${fmtMs(max)}, last 1,000 calls a tool` }));
  return root;
}
