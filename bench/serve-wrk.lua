-- `make bench-serve`: makes wrk cycle through a fixed list of requests, the same list for every server compared.
--   wrk -t2 -c64 -d12s --latency -s bench/serve-wrk.lua http://127.0.0.1:PORT -- LIST_FILE
-- LIST_FILE has one request a line: `path<TAB>range` (range empty for plain GETs). Every request says
-- `Accept-Encoding: gzip`, as a browser's would. Each thread starts at its own place in the list, so the threads
-- do not ask for the same tile at the same moment. Requests are formatted once, in init(); no response() hook, so
-- wrk reads responses at full speed (it counts statuses ≥ 400 itself).

local threads = 0

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

local requests = {}
local counter = 0

function init(args)
  local file = args[1]
  if file == nil then
    error("bench/serve-wrk.lua: pass the request list file after --")
  end
  for line in io.lines(file) do
    local path, range = line:match("^([^\t]+)\t?(.*)$")
    if path ~= nil then
      local headers = { ["Accept-Encoding"] = "gzip" }
      if range ~= "" then
        headers["Range"] = range
      end
      requests[#requests + 1] = wrk.format("GET", path, headers)
    end
  end
  if #requests == 0 then
    error("bench/serve-wrk.lua: no requests in " .. file)
  end
  counter = ((thread_index or 0) * 7919) % #requests
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end
