-- wrk script for bench/dpop_cost.py: each line of the file is "authorization<TAB>dpop" ("-": no
-- DPoP header). Every line is sent once; past the last one a thread sends a request that is
-- refused (counted as an error), so a run that runs out of fresh proofs is flagged, never hidden.
-- With several wrk threads (args[2] of them) each sends every args[2]-th line, so no proof is
-- sent twice.
local lines = {}
local i = 0
local threads = 0
bad = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  local every = tonumber(args[2] or "1")
  local n = 0
  for line in io.lines(args[1]) do
    if n % every == (tid or 0) then
      local auth, proof = line:match("^(.-)\t(.*)$")
      local headers = { ["Authorization"] = auth }
      if proof ~= "-" then headers["DPoP"] = proof end
      lines[#lines + 1] = wrk.format("GET", "/", headers)
    end
    n = n + 1
  end
end
function request()
  i = i + 1
  if i > #lines then return wrk.format("GET", "/", { ["Authorization"] = "Bearer x" }) end
  return lines[i]
end
function response(status)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d requests=%d errors_status=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.requests, summary.errors.status))
end
