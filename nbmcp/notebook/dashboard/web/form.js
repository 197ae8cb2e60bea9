// form.js: a "try it" form built from a tool's JSON Schema; read() gives the arguments object.

function resolveRef(prop, defs) {
  let seen = 0;
  while (prop && prop.$ref && seen++ < 8) {
    const name = prop.$ref.split("/").pop();
    prop = Object.assign({}, defs[name] || {}, { description: prop.description || (defs[name] || {}).description });
  }
  return prop || {};
}

// The schema's one non-null alternative (Optional[X] is anyOf [X, null]) and whether null is allowed.
function mainType(prop, defs) {
  prop = resolveRef(prop, defs);
  const options = prop.anyOf || prop.oneOf;
  if (Array.isArray(options)) {
    const real = options.map((o) => resolveRef(o, defs)).filter((o) => o.type !== "null");
    if (real.length === 1) return { ...real[0], description: prop.description || real[0].description, default: prop.default, title: prop.title };
    return { ...prop, type: "json" };
  }
  if (Array.isArray(prop.type)) {
    const real = prop.type.filter((t) => t !== "null");
    return { ...prop, type: real.length === 1 ? real[0] : "json" };
  }
  if (prop.const !== undefined) return { ...prop, enum: [prop.const] };
  return prop;
}

function fieldFor(name, rawProp, required, defs) {
  const prop = mainType(rawProp, defs);
  const id = `nbmcp-f-${Math.random().toString(36).slice(2)}`;
  const type = prop.enum ? "enum" : prop.type || "json";
  const hasDefault = prop.default !== undefined;
  let input;
  let read;
  if (type === "enum") {
    input = h("select", { id, "data-arg": name },
      required ? null : h("option", { value: "", text: "(not set)" }),
      prop.enum.map((v) => h("option", { value: JSON.stringify(v), text: typeof v === "string" ? v : JSON.stringify(v) })));
    if (hasDefault) input.value = JSON.stringify(prop.default);
    read = () => (input.value === "" ? undefined : JSON.parse(input.value));
  } else if (type === "boolean") {
    input = h("select", { id, "data-arg": name },
      required ? null : h("option", { value: "", text: "(not set)" }),
      h("option", { value: "true", text: "true" }), h("option", { value: "false", text: "false" }));
    if (hasDefault) input.value = String(prop.default);
    read = () => (input.value === "" ? undefined : input.value === "true");
  } else if (type === "integer" || type === "number") {
    input = h("input", { id, type: "number", step: type === "integer" ? "1" : "any", "data-arg": name });
    if (hasDefault && prop.default !== null) input.value = String(prop.default);
    read = () => {
      if (input.value.trim() === "") return undefined;
      const value = Number(input.value);
      if (!Number.isFinite(value) || (type === "integer" && !Number.isInteger(value))) throw new Error(`${name}: not ${type === "integer" ? "an integer" : "a number"}`);
      return value;
    };
  } else if (type === "string") {
    input = h("input", { id, type: "text", "data-arg": name, placeholder: prop.format || "" });
    if (hasDefault && prop.default !== null) input.value = String(prop.default);
    read = () => (input.value === "" && !required ? undefined : input.value);
  } else {
    input = h("textarea", { id, rows: 2, class: "nbmcp-json", "data-arg": name, placeholder: type === "array" ? "[ ... ] (JSON)" : "JSON" });
    if (hasDefault && prop.default !== null) input.value = JSON.stringify(prop.default);
    read = () => {
      if (input.value.trim() === "") return undefined;
      try { return JSON.parse(input.value); } catch (e) { throw new Error(`${name}: not valid JSON (${e.message})`); }
    };
  }
  const kind = type === "json" ? "json" : type;
  const label = h("label", { for: id, class: "nbmcp-field-label" },
    h("code", { text: name }), required ? h("span", { class: "nbmcp-required", title: "required", text: "*" }) : null,
    h("span", { class: "nbmcp-muted", text: ` ${kind}` }));
  const help = prop.description ? h("div", { class: "nbmcp-help", text: prop.description }) : null;
  return { node: h("div", { class: "nbmcp-field" }, label, input, help), read, name };
}

// A form for `schema`; returns { node, read } where read() gives the arguments or throws.
function schemaForm(schema) {
  const defs = (schema && (schema.$defs || schema.definitions)) || {};
  const props = (schema && schema.properties) || {};
  const required = new Set((schema && schema.required) || []);
  const fields = Object.entries(props).map(([name, prop]) => fieldFor(name, prop, required.has(name), defs));
  const raw = h("textarea", { class: "nbmcp-json nbmcp-raw", rows: 4, hidden: true, "aria-label": "arguments as JSON" });
  const rawBox = h("input", { type: "checkbox" });
  const readFields = () => {
    const args = {};
    for (const field of fields) {
      const value = field.read();
      if (value !== undefined) args[field.name] = value;
    }
    return args;
  };
  rawBox.addEventListener("change", () => {
    if (rawBox.checked) {
      try { raw.value = JSON.stringify(readFields(), null, 2); } catch (e) { raw.value = "{}"; }
    }
    raw.hidden = !rawBox.checked;
    fields.forEach((f) => { f.node.hidden = rawBox.checked; });
  });
  const read = () => {
    if (!rawBox.checked) return readFields();
    let value;
    try { value = JSON.parse(raw.value || "{}"); } catch (e) { throw new Error(`not valid JSON (${e.message})`); }
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("the arguments must be a JSON object");
    return value;
  };
  const empty = fields.length ? null : h("div", { class: "nbmcp-muted", text: "no arguments" });
  const node = h("div", { class: "nbmcp-form-fields" }, empty, fields.map((f) => f.node), raw,
    h("label", { class: "nbmcp-check nbmcp-muted" }, rawBox, " edit as JSON"));
  return { node, read };
}
