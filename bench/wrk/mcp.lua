-- wrk script: MCP JSON-RPC over POST, a unique id per request, every response checked.
--
-- Environment (set by bench/run.py):
--   BENCH_METHOD            "call" (tools/call add, default) or "list" (tools/list)
--   BENCH_LIST_EXPECT       for "list": a tool name that must be in every answer
--   BENCH_SESSION           optional Mcp-Session-Id header value
--   BENCH_PROTOCOL_VERSION  optional MCP-Protocol-Version header value
--   BENCH_HEADER            optional extra request header "Name: value" (a credential:
--                           "X-API-Key: K" or "Authorization: Bearer T"); never printed
--   BENCH_MODERN            "1": speak protocol 2026-07-28 as its clients do: params._meta with
--                           protocolVersion, clientCapabilities and clientInfo; headers
--                           MCP-Protocol-Version: 2026-07-28, Mcp-Method and (call) Mcp-Name: add;
--                           every answer must also say "resultType":"complete"
--
-- Ids are thread-distinct: thread t sends t*10^9 + 1, t*10^9 + 2, ...; "call" varies the
-- arguments too (a = counter mod 100000, b = thread number) so a cached, mixed-up or
-- canned answer is caught. A response counts as correct only if: status 200, JSON content
-- type, its id is one we sent and have not had an answer for yet, and (call) its text is
-- the sum we asked for with isError false, or (list) it names the expected tool (and, with
-- BENCH_MODERN, its resultType is "complete").
-- done() prints one line "BENCHJSON {...}" that run.py parses.

local METHOD = os.getenv("BENCH_METHOD") or "call"
local LIST_EXPECT = os.getenv("BENCH_LIST_EXPECT") or "add"
local SESSION = os.getenv("BENCH_SESSION") or ""
local VERSION = os.getenv("BENCH_PROTOCOL_VERSION") or ""
local HEADER = os.getenv("BENCH_HEADER") or ""
local MODERN = os.getenv("BENCH_MODERN") == "1"
-- what a 2026-07-28 client puts in every request's params (the bench's one client)
local META = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
   .. '"io.modelcontextprotocol/clientCapabilities":{},'
   .. '"io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"}}'

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

function init(args)
   n = 0
   checked = 0
   bad = 0
   inflight_n = 0
   first_bad = ""
   inflight = {}
   hdrs = {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json, text/event-stream",
   }
   if SESSION ~= "" then hdrs["Mcp-Session-Id"] = SESSION end
   if VERSION ~= "" then hdrs["MCP-Protocol-Version"] = VERSION end
   if MODERN then
      hdrs["MCP-Protocol-Version"] = "2026-07-28"
      if METHOD == "list" then
         hdrs["Mcp-Method"] = "tools/list"
      else
         hdrs["Mcp-Method"] = "tools/call"
         hdrs["Mcp-Name"] = "add"
      end
   end
   if HEADER ~= "" then
      local name, value = HEADER:match("^%s*([^:]+):%s*(.-)%s*$")
      if name == nil then error("BENCH_HEADER must be 'Name: value'") end
      hdrs[name] = value
   end
   list_plain = '"name":"' .. LIST_EXPECT .. '"'
   list_pattern = '"name"%s*:%s*"' .. LIST_EXPECT:gsub("%p", "%%%0") .. '"'
end

function request()
   n = n + 1
   local id = tid * 1000000000 + n
   local body
   if METHOD == "list" then
      body = string.format('{"jsonrpc":"2.0","id":%d,"method":"tools/list","params":{%s}}',
         id, MODERN and META or "")
      inflight[id] = true
   else
      local a = n % 100000
      body = string.format(
         '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"add","arguments":{"a":%d,"b":%d}%s}}',
         id, a, tid, MODERN and ("," .. META) or "")
      inflight[id] = string.format("%d", a + tid)
   end
   inflight_n = inflight_n + 1
   return wrk.format("POST", wrk.path, hdrs, body)
end

local function fail(why, body)
   bad = bad + 1
   if first_bad == "" then
      local snippet = (body or ""):sub(1, 200)
      first_bad = (why .. " | " .. snippet):gsub('[^%w%s%.,:;_%-%+%(%)%[%]{}=/]', "?")
   end
end

function response(status, headers, body)
   checked = checked + 1
   if status ~= 200 then return fail("status " .. status, body) end
   local ctype = headers["content-type"] or headers["Content-Type"] or ""
   if not ctype:find("application/json", 1, true) then return fail("content-type " .. ctype, body) end
   local id = tonumber(body:match('"id"%s*:%s*(%d+)'))
   local expect = id and inflight[id]
   if expect == nil then return fail("unknown or repeated id " .. tostring(id), body) end
   inflight[id] = nil
   inflight_n = inflight_n - 1
   if METHOD == "list" then
      -- plain search first (fast on a 400 kB answer), a whitespace-tolerant pattern otherwise
      if not body:find(list_plain, 1, true) and not body:find(list_pattern) then
         return fail("tool missing from list", body)
      end
   else
      if not body:find('"text"%s*:%s*"' .. expect .. '"') then return fail("wrong sum, want " .. expect, body) end
      if not body:find('"isError"%s*:%s*false') then return fail("isError not false", body) end
   end
   if MODERN and not body:find('"resultType"%s*:%s*"complete"') then
      return fail("resultType not complete", body)
   end
end

function done(summary, latency, requests)
   local c, b, u, first = 0, 0, 0, ""
   for _, t in ipairs(threads) do
      c = c + t:get("checked")
      b = b + t:get("bad")
      u = u + t:get("inflight_n")
      if first == "" then first = t:get("first_bad") end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"max_us":%d,"mean_us":%.1f,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"checked":%d,"mismatches":%d,"unanswered":%d,"threads":%d,"first_mismatch":"%s"}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout,
      c, b, u, #threads, first))
end
