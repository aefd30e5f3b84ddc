-- wrk script for the jwt-guard benchmark.
--   wrk ... -s bench/tokens.lua http://127.0.0.1:PORT/ -- TOKENS EXPECTED [HEADER [EXTRA [PATH [PREFIX]]]]
-- TOKENS: file with one token per line ("-" = send no Authorization header).
-- HEADER: send "Bearer <token>" in this header instead of Authorization (a request of the
-- same size that carries no credentials, for the padded wasm floor).
-- EXTRA: file of "Name: value" lines sent with every request ("-" = none), e.g. a browser's
-- headers and cookies.
-- PATH: the request path (default "/"). PREFIX: what precedes the token in HEADER (default
-- "Bearer "; e.g. "access_token=" with HEADER "Cookie").
-- Each thread pre-formats one request per token and cycles through them, starting at
-- its own offset so the two threads do not send the same token at the same time.
-- EXPECTED: the only status counted as correct; any other status is counted as "bad",
-- so a misconfigured run (401/500 where 200 is expected) is flagged, never hidden.
-- Results: done() writes one JSON line to the file named by $WRK_OUT (stdout if unset).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- Per-thread state (each thread has its own Lua interpreter).
local requests = {}
local n = 0
local i = 0
local expected = 200
bad = 0
bad_status = 0

function init(args)
  local path = args[1] or "-"
  expected = tonumber(args[2] or "200")
  local header = args[3] or "Authorization"
  local extra = args[4] or "-"
  local path_ = args[5] or "/"
  local prefix = args[6] or "Bearer "
  local common = {}
  if extra ~= "-" then
    for line in io.lines(extra) do
      local name, value = line:match("^([^:]+): (.*)$")
      if name then
        common[name] = value
      end
    end
  end
  local function headers()
    local h = {}
    for name, value in pairs(common) do
      h[name] = value
    end
    return h
  end
  if path == "-" then
    requests[1] = wrk.format("GET", path_, headers())
  else
    for line in io.lines(path) do
      if #line > 0 then
        local h = headers()
        h[header] = prefix .. line
        requests[#requests + 1] = wrk.format("GET", path_, h)
      end
    end
  end
  n = #requests
  if n == 0 then
    error("no tokens in " .. path)
  end
  -- id is set by setup() before init() runs.
  i = math.floor((id or 0) * n / 2) % n
end

function request()
  i = i + 1
  if i > n then
    i = 1
  end
  return requests[i]
end

function response(status, headers, body)
  if status ~= expected then
    bad = bad + 1
    bad_status = status
  end
end

function done(summary, latency, requests_)
  local bad_total, last_bad = 0, 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
    local s = t:get("bad_status") or 0
    if s ~= 0 then
      last_bad = s
    end
  end
  local e = summary.errors
  local out = string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
      '"max_us": %d, "bad": %d, "bad_status": %d, "connect_errors": %d, "read_errors": %d, ' ..
      '"write_errors": %d, "timeouts": %d, "non_2xx_3xx": %d}',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    bad_total, last_bad, e.connect, e.read, e.write, e.timeout, e.status)
  local path = os.getenv("WRK_OUT")
  if path and #path > 0 then
    local f = assert(io.open(path, "w"))
    f:write(out, "\n")
    f:close()
  else
    io.write(out, "\n")
  end
end
