-- wrk script of the proxy-overhead benchmark: POSTs one small non-streaming generate and prints one line,
-- "BENCH {json}", that bench/lib/proxy.sh reads (latencies in microseconds).
wrk.method = "POST"
wrk.body = '{"model":"llama3.2:1b","prompt":"hi","stream":false}'
wrk.headers["Content-Type"] = "application/json"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"durationUs":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f,' ..
    '"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
