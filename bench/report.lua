-- wrk script for bench/serve.py: POSTs one prepared body and prints the run's figures as one JSON line.
-- BENCH_BODY: file holding the request body; BENCH_CONTENT_TYPE and BENCH_ACCEPT: the headers to send;
-- BENCH_HEADERS: any other headers, one "Name: value" a line.
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
wrk.headers["Accept"] = os.getenv("BENCH_ACCEPT") or "application/json"
for name, value in string.gmatch(os.getenv("BENCH_HEADERS") or "", "([^:\n]+): ([^\n]*)") do
  wrk.headers[name] = value
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
