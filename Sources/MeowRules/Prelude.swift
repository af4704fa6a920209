/// The rule language (docs/rules.md): Lua code installed into each rule file's and test file's
/// environment, on top of the sandbox.
///
/// Rule files get `policy { ... }`, `deny(message [, evidence])` and `now()`. The host reaches each file's
/// rules through two functions the prelude leaves in the file's globals under `__meow_*` names:
/// `__meow_collect()` (the declared rules as data) and `__meow_evaluate(i, entity)` (run rule `i` on an
/// entity and normalise what `check` returned).
enum Prelude {
    static let rules = #"""
        local env = ...
        local rawget, type, error, tostring, setmetatable, getmetatable, pcall, next =
          rawget, type, error, tostring, setmetatable, getmetatable, pcall, next
        local now_fn = os.clock
        local where = rawget(env, "__meow_where")
        env.__meow_where = nil

        local declared = {}
        local DENY = {}

        local function declare(kind, spec, level)
          if type(spec) ~= "table" then
            error(kind .. " expects a table: " .. kind .. " { id = ..., ... }", level + 1)
          end
          -- position of the declaration in the rule file: the caller of policy{}
          local info = { kind = kind, spec = spec, line = 0 }
          declared[#declared + 1] = info
          return info
        end

        -- policy { ... }, anomaly { ... }, remediation { ... }: record the declaration and where it is.
        local function declarer(kind)
          return function(spec)
            local info = declare(kind, spec, 2)
            local _, line = where(2)
            info.line = line
            return spec
          end
        end
        env.policy = declarer("policy")
        env.anomaly = declarer("anomaly")
        env.remediation = declarer("remediation")

        -- Detectors run natively in the host; these build their descriptions.
        local function detector(name)
          return function(options)
            if options ~= nil and type(options) ~= "table" then
              error("detect." .. name .. " expects a table of options: detect." .. name .. " { ... }", 2)
            end
            local d = {}
            for k, v in next, options or {} do d[k] = v end
            d.detector = name
            return d
          end
        end
        env.detect = setmetatable({
          robust_z = detector("robust_z"),
          ewma = detector("ewma"),
          threshold = detector("threshold"),
          default = detector("default"),
        }, { __index = function(_, name)
          error("unknown detector 'detect." .. tostring(name) .. "' (detect.robust_z, detect.ewma, detect.threshold, detect.default)", 2)
        end })

        function env.deny(message, evidence)
          if type(message) ~= "string" then
            error("deny: the message must be a string, got " .. type(message), 2)
          end
          if evidence ~= nil and type(evidence) ~= "table" then
            error("deny: evidence must be a table, got " .. type(evidence), 2)
          end
          return setmetatable({ message = message, evidence = evidence }, DENY)
        end

        function env.now() return now_fn() end

        function env.__meow_collect()
          local out = {}
          for i, info in ipairs(declared) do
            local spec, types, data = info.spec, {}, {}
            for k, v in next, spec do
              types[tostring(k)] = type(v)
              if type(v) ~= "function" then data[tostring(k)] = v end
            end
            out[i] = { kind = info.kind, spec = data, types = types, line = info.line }
          end
          return out
        end

        local function item(d, i)
          if type(d) == "string" then return { message = d } end
          if type(d) == "table" and getmetatable(d) == DENY then
            return { message = d.message, evidence = d.evidence }
          end
          error("check returned a list whose item " .. i .. " is a " .. type(d) .. ", not deny(...)", 0)
        end

        local function normalize(res, spec)
          if res == nil or res == true then return nil end
          if res == false then
            return { { message = type(spec.description) == "string" and spec.description or (tostring(spec.id) .. " failed") } }
          end
          if type(res) == "string" then return { { message = res } } end
          if type(res) == "table" then
            if getmetatable(res) == DENY then return { { message = res.message, evidence = res.evidence } } end
            local out = {}
            for i = 1, #res do out[i] = item(res[i], i) end
            if #out == 0 then
              if next(res) ~= nil then
                error("check returned a table that is neither deny(...) nor a list of deny(...)", 0)
              end
              return nil
            end
            return out
          end
          error("check must return nil (pass), deny(message [, evidence]), a message string or a list of deny(...); got a " .. type(res), 0)
        end

        -- false: `where` excluded the entity; nil: nothing to report. Otherwise, by kind: policy → a list of
        -- violations; anomaly → { series = ... } for the host's detector; remediation → { reason, params }.
        function env.__meow_evaluate(i, entity)
          local info = declared[i]
          local spec = info.spec
          local w = spec.where
          if w ~= nil and not w(entity) then return false end
          if info.kind == "policy" then
            return normalize(spec.check(entity), spec)
          elseif info.kind == "anomaly" then
            local s = spec.series(entity)
            if s == nil then return nil end
            return { series = s }
          else
            local verdict = spec.when(entity)
            if not verdict then return nil end
            local params = spec.params
            if type(params) == "function" then params = params(entity) end
            if params ~= nil and type(params) ~= "table" then
              error("params must return a table, got " .. type(params), 0)
            end
            return { reason = type(verdict) == "string" and verdict or nil, params = params }
          end
        end
        """#

    /// Test files: `test "name" { entities = {...}, expect = {...} }` and one constructor per entity kind.
    static let tests = #"""
        local env, kinds = ...
        local type, error = type, error
        local where = rawget(env, "__meow_where")
        env.__meow_where = nil
        local declared = {}

        local function define(name, skip, line)
          if type(name) ~= "string" then error("test expects a name: test \"name\" { ... }", 3) end
          return function(spec)
            if type(spec) ~= "table" then error("test \"" .. name .. "\" expects a table { entities = ..., expect = ... }", 2) end
            declared[#declared + 1] = { name = name, spec = spec, line = line, skip = skip }
          end
        end

        function env.test(name)
          local _, line = where(2)
          local f = define(name, false, line)
          return f
        end
        function env.skip_test(name)
          local _, line = where(2)
          local f = define(name, true, line)
          return f
        end

        for _, kind in ipairs(kinds) do
          env[kind] = function(fields)
            if type(fields) ~= "table" then error(kind .. " expects a table of fields", 2) end
            fields.kind = kind
            return fields
          end
        end

        function env.__meow_tests() return declared end
        """#
}
