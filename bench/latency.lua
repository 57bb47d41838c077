-- wrk script: requests cycle through the paths given after `--`; done() prints one machine-readable line
-- with the request count, errors and the p50/p95/p99 latency in milliseconds.
local paths = {}
local counter = 0

function init(args)
  for _, path in ipairs(args) do paths[#paths + 1] = path end
end

function request()
  counter = counter + 1
  return wrk.format(nil, paths[(counter % #paths) + 1])
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format("BENCH requests=%d errors=%d p50=%.3f p95=%.3f p99=%.3f\n", summary.requests, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
