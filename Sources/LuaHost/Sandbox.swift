/// The sandbox every rule file, test file and module runs in (DESIGN.md §3).
///
/// Allowed globals are listed at the top of the bootstrap below, Redis-style: anything not listed does not
/// exist for rules. The bootstrap runs once per Lua state with a table of privileged functions (`priv`)
/// that only it can see; it returns the environment factory and the real global table is emptied.
///
/// What each file gets: its own global table (strict: reading an undefined global is an error), its own
/// copies of the library tables (so changing `string.upper` in one file changes nothing elsewhere), a
/// text-only `load`, a `require` limited to `.lua` modules under the rules directory, an `os` table whose
/// clock is the evaluation time, `setmetatable` that refuses `__gc`, `collectgarbage("count")` only, and a
/// `print` that the host captures.
enum Sandbox {
    static let bootstrap = #"""
        local priv = ...

        -- Allowed globals. Everything else (io, os.execute, debug, package, dofile, loadfile, string.dump,
        -- collectgarbage options other than "count", warn) does not exist inside the sandbox.
        local BASE = {
          "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget",
          "rawlen", "rawset", "select", "tonumber", "tostring", "type",
        }
        local LIBS = {
          string = { "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower", "match", "rep",
                     "reverse", "sub", "upper", "pack", "packsize", "unpack" },
          table = { "concat", "insert", "pack", "remove", "sort", "unpack" },
          math = { "abs", "acos", "asin", "atan", "ceil", "cos", "deg", "exp", "floor", "fmod", "huge",
                   "log", "max", "maxinteger", "min", "mininteger", "modf", "pi", "rad", "random", "sin",
                   "sqrt", "tan", "tointeger", "type", "ult" },
          utf8 = { "char", "charpattern", "codepoint", "codes", "len", "offset" },
          coroutine = { "close", "create", "isyieldable", "resume", "running", "status", "wrap", "yield" },
        }

        local base = priv.base
        local ipairs, pairs, type, error, tostring, select = base.ipairs, base.pairs, base.type, base.error, base.tostring, base.select
        local raw_setmetatable, math_floor, math_type, concat = base.setmetatable, priv.math.floor, priv.math.type, priv.table.concat
        local pcall, table_pack, table_unpack = base.pcall, priv.table.pack, priv.table.unpack
        local load_text, module_source, now, date, find, where = priv.load_text, priv.module, priv.now, priv.date, priv.find, priv.where
        local VERSION = base._VERSION
        -- math.random is deterministic: the same evaluation gives the same numbers.
        priv.math.randomseed(20260101)
        local _ENV = nil

        local function copy(names, src)
          local t = {}
          for _, n in ipairs(names) do t[n] = src[n] end
          return t
        end
        -- Taken now: the real global table is emptied once this chunk returns.
        local base_functions = copy(BASE, base)

        -- table.move in Lua: the C one loops over any range inside C, out of reach of the budget hook.
        local function table_move(a1, f, e, t, a2)
          if a2 == nil then a2 = a1 end
          if math_type(f) ~= "integer" or math_type(e) ~= "integer" or math_type(t) ~= "integer" then
            error("bad argument to 'move' (number has no integer representation)", 2)
          end
          if e >= f then
            if t > e or t <= f or a1 ~= a2 then
              for i = 0, e - f do a2[t + i] = a1[f + i] end
            else
              for i = e - f, 0, -1 do a2[t + i] = a1[f + i] end
            end
          end
          return a2
        end

        -- os: the clock is the evaluation time, in UTC, so runs and replays reproduce.
        local function os_time(t)
          if t == nil then return math_floor(now()) end
          if type(t) ~= "table" then error("bad argument #1 to 'time' (table expected, got " .. type(t) .. ")", 2) end
          local y, m, d = t.year, t.month, t.day
          if y == nil then error("field 'year' missing in date table", 2) end
          if m == nil then error("field 'month' missing in date table", 2) end
          if d == nil then error("field 'day' missing in date table", 2) end
          local H, M, S = t.hour or 12, t.min or 0, t.sec or 0
          y = y + (m - 1) // 12
          m = (m - 1) % 12 + 1
          local yy = m <= 2 and y - 1 or y
          local era = yy // 400
          local yoe = yy - era * 400
          local doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
          local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
          return math_floor((era * 146097 + doe - 719468) * 86400 + H * 3600 + M * 60 + S)
        end

        local function os_date(fmt, t)
          fmt = fmt or "%c"
          if type(fmt) ~= "string" then error("bad argument #1 to 'date' (string expected)", 2) end
          if fmt:sub(1, 1) ~= "!" then fmt = "!" .. fmt end
          return date(fmt, t or math_floor(now()))
        end

        -- xpcall whose handler runs after the stack has unwound. Lua runs a message handler inside the
        -- raising code, where hooks are off: a handler that loops there could never be stopped.
        local function xpcall(f, handler, ...)
          if type(handler) ~= "function" then
            error("bad argument #2 to 'xpcall' (function expected, got " .. type(handler) .. ")", 2)
          end
          local results = table_pack(pcall(f, ...))
          if results[1] then return table_unpack(results, 1, results.n) end
          local _, handled = pcall(handler, results[2])
          return false, handled
        end

        local STRICT = {
          __index = function(_, k) error("undefined global '" .. tostring(k) .. "'", 2) end,
          __metatable = false,
        }

        local new_env

        local function make_load(env)
          return function(chunk, chunkname, mode, ...)
            local e = env
            if select("#", ...) > 0 then e = ... end
            if type(chunk) == "function" then
              local parts = {}
              while true do
                local piece = chunk()
                if piece == nil or piece == "" then break end
                if type(piece) ~= "string" then return nil, "reader function must return a string" end
                parts[#parts + 1] = piece
              end
              chunk = concat(parts)
            elseif type(chunk) ~= "string" then
              error("bad argument #1 to 'load' (string expected, got " .. type(chunk) .. ")", 2)
            end
            -- Whatever mode the caller asks for, only text chunks load: bytecode can escape the VM.
            return load_text(chunk, chunkname or "=(load)", e)
          end
        end

        local function make_require()
          local loaded = {}
          return function(name)
            if type(name) ~= "string" then error("bad argument #1 to 'require' (string expected)", 2) end
            local cached = loaded[name]
            if cached ~= nil then return cached end
            local source, chunkname = module_source(name)
            if source == nil then error(chunkname, 2) end
            local menv = new_env("module", chunkname)
            local fn, err = load_text(source, chunkname, menv)
            if fn == nil then error(err, 2) end
            loaded[name] = true
            local result = fn(name)
            if result == nil then result = true end
            loaded[name] = result
            return result
          end
        end

        -- Argo CD's resource customizations (health.lua, discovery.lua, action.lua) were written for
        -- gopher-lua (Lua 5.1): undefined globals read as nil, a few 5.1 functions, and `os` with only
        -- time and date, also through require("os"). Same budgets, same text-only loading.
        local function argocd_env()
          local env = {}
          for _, n in ipairs(BASE) do env[n] = base_functions[n] end
          for lib, names in pairs(LIBS) do
            if lib ~= "utf8" then env[lib] = copy(names, priv[lib]) end
          end
          env.xpcall = xpcall
          env.table.move = nil
          env.table.getn = function(t)
            if type(t) ~= "table" then error("bad argument #1 to 'getn' (table expected, got " .. type(t) .. ")", 2) end
            return #t
          end
          env.table.maxn = function(t)
            local n = 0
            for k in pairs(t) do
              if type(k) == "number" and k > n then n = k end
            end
            return n
          end
          env.unpack = table_unpack
          -- gopher-lua has only float64 numbers and prints them as Go does: whole ones as integers, others
          -- in the shortest form that reads back the same (%g with an exponent from e+06 on), +Inf, NaN.
          local base_tostring, str_format, str_match, str_gsub, str_rep = tostring, priv.string.format, priv.string.match, priv.string.gsub, priv.string.rep
          local tonumber_, huge = base_functions.tonumber, priv.math.huge
          local function go_number(v)
            if v ~= v then return "NaN" end
            if v == huge then return "+Inf" end
            if v == -huge then return "-Inf" end
            if v == math_floor(v) and v > -2^63 and v < 2^63 then return base_tostring(math_floor(v)) end
            local s
            for p = 0, 16 do
              s = str_format("%." .. p .. "e", v)
              if tonumber_(s) == v then break end
            end
            local sign, lead, frac, e = str_match(s, "^(-?)(%d)%.?(%d*)e([-+]%d+)$")
            local exp = tonumber_(e)
            local digits = str_gsub(lead .. frac, "0+$", "")
            if digits == "" then digits = "0" end
            if exp < -4 or exp >= 6 then
              local mant = digits:sub(1, 1)
              if #digits > 1 then mant = mant .. "." .. digits:sub(2) end
              local ae = exp < 0 and -exp or exp
              return sign .. mant .. "e" .. (exp < 0 and "-" or "+") .. (ae < 10 and "0" or "") .. ae
            end
            if exp < 0 then return sign .. "0." .. str_rep("0", -exp - 1) .. digits end
            if #digits <= exp + 1 then return sign .. digits .. str_rep("0", exp + 1 - #digits) end
            return sign .. digits:sub(1, exp + 1) .. "." .. digits:sub(exp + 2)
          end
          env.tostring = function(v)
            if math_type(v) == "float" then return go_number(v) end
            return base_tostring(v)
          end
          -- string.format: %s of a number prints it as gopher-lua does, and %d truncates a float.
          env.string.format = function(fmt, ...)
            local args = table_pack(...)
            if type(fmt) == "string" then
              local i = 0
              for spec in str_gsub(fmt, "%%%%", ""):gmatch("%%[-+ #0]*%d*%.?%d*(%a)") do
                i = i + 1
                local a = args[i]
                if math_type(a) == "float" then
                  if spec == "s" then
                    args[i] = go_number(a)
                  elseif (spec == "d" or spec == "i" or spec == "x" or spec == "X" or spec == "o" or spec == "c") and a == a and a > -2^63 and a < 2^63 then
                    args[i] = a >= 0 and math_floor(a) or -math_floor(-a)
                  end
                end
              end
            end
            return str_format(fmt, table_unpack(args, 1, args.n))
          end
          env.math.pow = function(x, y) return x ^ y end
          env.math.mod = priv.math.fmod
          env.string.gfind = priv.string.gmatch
          env.setmetatable = priv.setmetatable
          env.collectgarbage = priv.collectgarbage
          env.print = priv.print
          local os = { time = os_time, date = os_date }
          env.os = os
          env.require = function(name)
            if name == "os" then return os end
            error("module " .. tostring(name) .. " not found", 2)
          end
          env.load = make_load(env)
          env.loadstring = function(s, chunkname) return load_text(s, chunkname or "=(loadstring)", env) end
          env._VERSION = "Lua 5.1"
          env._G = env
          return env
        end

        new_env = function(kind, filename)
          if kind == "argocd" then return argocd_env() end
          local env = {}
          for _, n in ipairs(BASE) do env[n] = base_functions[n] end
          for lib, names in pairs(LIBS) do env[lib] = copy(names, priv[lib]) end
          env.xpcall = xpcall
          env.table.move = table_move
          env.setmetatable = priv.setmetatable
          env.collectgarbage = priv.collectgarbage
          env.print = priv.print
          env.os = {
            time = os_time,
            date = os_date,
            clock = function() return now() end,
            difftime = function(a, b) return a - (b or 0) end,
          }
          -- Read-only look-ups in the snapshot being evaluated.
          env.state = {
            get = function(id) return find(1, id) end,
            list = function(kind) return find(2, kind) end,
          }
          env.load = make_load(env)
          env.require = make_require()
          -- where(level) -> file, line: for a language prelude to record where things are declared. The
          -- prelude takes it out of the globals before any rule code runs.
          env.__meow_where = where
          env._VERSION = VERSION
          env._G = env
          return raw_setmetatable(env, STRICT)
        end

        return new_env
        """#
}
