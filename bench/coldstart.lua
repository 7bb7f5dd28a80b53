-- wrk script of the cold-start benchmark (bench/run.sh coldstart): POSTs the proxy benchmark's small
-- non-streaming generate and counts the 200 answers per wall-clock second in each thread; done() prints one line,
-- "COLD {json}", with the per-second totals over all threads, which bench/lib/coldstart.sh reads.
wrk.method = "POST"
wrk.body = '{"model":"llama3.2:1b","prompt":"hi","stream":false}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = {}
  bad = 0
end

function response(status, headers, body)
  if status == 200 then
    local s = os.time()
    ok[s] = (ok[s] or 0) + 1
  else
    bad = bad + 1
  end
end

done = function(summary, latency, requests)
  local total, first, last, errors = {}, nil, nil, 0
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("ok")) do
      total[s] = (total[s] or 0) + n
      if first == nil or s < first then first = s end
      if last == nil or s > last then last = s end
    end
    errors = errors + t:get("bad")
  end
  local e = summary.errors
  errors = errors + e.connect + e.read + e.write + e.timeout
  local parts = {}
  if first ~= nil then
    for s = first, last do
      table.insert(parts, tostring(total[s] or 0))
    end
  end
  io.write(string.format('COLD {"perSecond":[%s],"errors":%d,"requests":%d}\n',
    table.concat(parts, ","), errors, summary.requests))
end
