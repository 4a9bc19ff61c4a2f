-- etcd reference for `basalt bench nnbench` (issue 5): puts of distinct keys through etcd's JSON gateway.
-- Start 3 members on loopback (Debian etcd-server), then for C in 1 16 64:
--   wrk -t 2 -c $C -d 8s --latency -s scripts/etcd-put.lua http://127.0.0.1:23791
-- Each request puts a distinct key (~40-byte key, 16-byte value) through etcd's JSON gateway.
local counter = 0
local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function enc(data)
  return ((data:gsub('.', function(x)
    local r, b = '', x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if (#x < 6) then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b64:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local key = enc(string.format("/benchmarks/nnbench/f%012d-%d", counter, math.random(1, 1e9)))
  return wrk.format(nil, "/v3/kv/put", nil, '{"key":"' .. key .. '","value":"' .. enc("0123456789abcdef") .. '"}')
end
