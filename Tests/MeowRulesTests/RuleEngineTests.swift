import Foundation
import MeowModel
import MeowRules
import MeowTesting
import Testing

let time = Date(timeIntervalSince1970: 1_767_225_600)

func app(_ name: String, env: String = "prod", automated: Bool? = nil, labels: [String: String]? = nil) -> Entity {
    .application(
        Application(
            id: "application/argocd/\(name)", name: name, labels: labels, environment: env,
            syncPolicy: automated.map { SyncPolicy(automated: $0, selfHeal: true) }))
}

let prodAutoSync = """
    policy {
      id = "prod-auto-sync",
      description = "prod syncs automatically",
      severity = "high",
      match = { kind = "application", environment = "prod" },
      check = function(app)
        if not (app.sync_policy and app.sync_policy.automated) then
          return deny("automated sync is off", { env = app.environment })
        end
      end,
    }
    """

@Suite struct RuleEngineTests {
    @Test func aViolationCarriesRuleSubjectSeverityEvidenceAndPosition() throws {
        let dir = try TempRules(["prod.lua": prodAutoSync])
        let engine = try dir.engine()
        #expect(engine.loadErrors.isEmpty)
        let result = engine.evaluate(
            .of([app("a", automated: false), app("b", automated: true), app("c", env: "dev")]), at: time)
        #expect(result.decisions.count == 1)
        let d = try #require(result.decisions.first)
        #expect(d.type == .violation)
        #expect(d.rule == "prod-auto-sync")
        #expect(d.subject == "application/argocd/a")
        #expect(d.severity == .high)
        #expect(d.message == "automated sync is off")
        #expect(d.evidence == ["env": "prod"])
        #expect(d.file == "rules/prod.lua")
        #expect(d.line == 1)
        #expect(result.stats.evaluations == 2)  // dev is not matched: no Lua call
    }

    @Test func brokenFilesBecomeRuleErrorsWhileOtherRulesRun() throws {
        let dir = try TempRules([
            "good.lua": prodAutoSync,
            "syntax.lua": "policy {\n  id = 'x',\n  severity = 'high' check = 1 }",
            "runtime.lua": "local t = nil\n\nlocal x = t.field",
            "loops.lua": "while true do end",
        ])
        let engine = try dir.engine()
        let byFile = Dictionary(grouping: engine.loadErrors, by: \.file)
        #expect(byFile["rules/syntax.lua"]?.first?.line == 3)
        #expect(byFile["rules/runtime.lua"]?.first?.line == 3)
        #expect(byFile["rules/runtime.lua"]?.first?.message.contains("attempt to index a nil value") == true)
        #expect(byFile["rules/loops.lua"]?.first?.message.contains("instruction budget exceeded") == true)
        let result = engine.evaluate(.of([app("a", automated: false)]), at: time)
        #expect(result.decisions.filter { $0.type == .violation }.count == 1)
        #expect(result.decisions.filter { $0.type == .ruleError }.count == 3)
    }

    @Test func aFailingCheckIsARuleErrorForThatEntityOnly() throws {
        let dir = try TempRules([
            "r.lua": """
            policy {
              id = "picky", severity = "low", match = { kind = "application" },
              check = function(app)
                if app.name == "b" then
                  error("cannot judge " .. app.name)
                end
                return deny("seen " .. app.name)
              end,
            }
            """
        ])
        let result = try dir.engine().evaluate(.of([app("a"), app("b"), app("c")]), at: time)
        #expect(result.decisions.map(\.type) == [.violation, .ruleError, .violation])
        let e = result.decisions[1]
        #expect(e.subject == "application/argocd/b")
        #expect(e.message.contains("cannot judge b"))
        #expect(e.line == 5)
        #expect(e.file == "rules/r.lua")
    }

    @Test func hostileRulesAreStoppedAndTheOthersStillDecide() throws {
        let dir = try TempRules([
            "good.lua": prodAutoSync,
            "hostile.lua": """
            policy { id = "spin", severity = "low", match = { kind = "application" },
              check = function() while true do pcall(function() while true do end end) end end }
            policy { id = "hog", severity = "low", match = { kind = "application" },
              check = function() local t = {} while true do t[#t + 1] = ('x'):rep(1024) .. #t end end }
            policy { id = "regex", severity = "low", match = { kind = "application" },
              check = function() return string.find(('a'):rep(500), ('a-'):rep(4) .. 'b') and deny('x') end }
            policy { id = "mutate", severity = "low", match = { kind = "application" },
              check = function(app) app.environment = "dev" end }
            """,
        ])
        var options = RuleEngine.Options()
        options.budget.instructions = 2_000_000
        options.budget.memoryBytes = 16 << 20
        options.budget.patternSteps = 2_000_000
        let engine = try dir.engine(options: options)
        #expect(engine.loadErrors.isEmpty)
        let start = Date()
        let result = engine.evaluate(.of([app("a", automated: false)]), at: time)
        #expect(Date().timeIntervalSince(start) < 20)
        let errors = Dictionary(uniqueKeysWithValues: result.decisions.filter { $0.type == .ruleError }.map { ($0.rule, $0) })
        #expect(errors["spin"]?.message.contains("instruction budget exceeded") == true)
        #expect(errors["spin"]?.evidence == ["budget": "instructions"])
        #expect(errors["hog"]?.message.contains("memory budget exceeded") == true)
        #expect(errors["regex"]?.message.contains("pattern matching budget exceeded") == true)
        #expect(errors["mutate"]?.message.contains("read-only") == true)
        // the good rule still saw environment == "prod"
        #expect(result.decisions.contains { $0.rule == "prod-auto-sync" && $0.type == .violation })
    }

    @Test func filesDoNotShareGlobals() throws {
        let dir = try TempRules([
            "a.lua":
                "counter = 41\npolicy { id = 'a', severity = 'low', match = { kind = 'application' }, check = function() counter = counter + 1 end }",
            "b.lua":
                "policy { id = 'b', severity = 'low', match = { kind = 'application' }, check = function() return deny(tostring(counter)) end }",
        ])
        let result = try dir.engine().evaluate(.of([app("x")]), at: time)
        let b = try #require(result.decisions.first { $0.rule == "b" })
        #expect(b.type == .ruleError)
        #expect(b.message.contains("undefined global 'counter'"))
    }

    @Test func declarationsAreValidatedWithFileAndLine() throws {
        let dir = try TempRules([
            "bad.lua": """
            policy { severity = "low", match = { kind = "application" }, check = function() end }
            policy { id = "sev", severity = "urgent", match = { kind = "application" }, check = function() end }
            policy { id = "typo", sevrity = "low", severity = "low", match = { kind = "application" }, check = function() end }
            policy { id = "kind", severity = "low", match = { kind = "app" }, check = function() end }
            policy { id = "field", severity = "low", match = { kind = "application", enviroment = "prod" }, check = function() end }
            policy { id = "nocheck", severity = "low", match = { kind = "application" } }
            policy { id = "Bad Id", severity = "low", match = { kind = "application" }, check = function() end }
            policy { id = "nested", severity = "low", match = { kind = "application", sync_policy = { automaticaly = true } }, check = function() end }
            """,
            "dup1.lua": "policy { id = 'same', severity = 'low', match = { kind = 'dag' }, check = function() end }",
            "dup2.lua": "\npolicy { id = 'same', severity = 'low', match = { kind = 'dag' }, check = function() end }",
        ])
        let engine = try dir.engine()
        let messages = engine.loadErrors.map(\.description)
        let expected = [
            "rules/bad.lua:1: policy: missing required field 'id'",
            "rules/bad.lua:2: policy 'sev': severity \"urgent\" is not one of",
            "rules/bad.lua:3: policy 'typo': unknown field 'sevrity'",
            "rules/bad.lua:4: policy 'kind': match.kind: unknown kind \"app\"",
            "rules/bad.lua:5: policy 'field': match.enviroment: application has no field 'enviroment'",
            "rules/bad.lua:6: policy 'nocheck': missing required field 'check'",
            "rules/bad.lua:7: policy 'Bad Id': id must be lowercase",
            "rules/bad.lua:8: policy 'nested': match.sync_policy.automaticaly: sync_policy has no field 'automaticaly'",
            "rules/dup2.lua:2: duplicate rule id 'same' (first declared at rules/dup1.lua:1)",
        ]
        for e in expected {
            #expect(messages.contains { $0.hasPrefix(e) }, "missing: \(e)\n got: \(messages)")
        }
        #expect(engine.rules.map(\.id) == ["same"])
    }

    @Test func matchListsNestedTablesAndNumbers() throws {
        let dir = try TempRules([
            "m.lua": """
            policy { id = "m", severity = "low",
              match = { kind = "application", environment = { "staging", "prod" }, labels = { team = "pay" } },
              check = function(a) return deny(a.name) end }
            policy { id = "n", severity = "low",
              match = { kind = "workload", replicas = { desired = 1 } },
              check = function(w) return deny(w.name) end }
            """
        ])
        let entities: [Entity] = [
            app("a", env: "prod", labels: ["team": "pay"]), app("b", env: "staging", labels: ["team": "pay"]),
            app("c", env: "dev", labels: ["team": "pay"]), app("d", env: "prod", labels: ["team": "web"]), app("e", env: "prod"),
            .workload(Workload(id: "workload/x/1", name: "one", replicas: Replicas(desired: 1))),
            .workload(Workload(id: "workload/x/2", name: "two", replicas: Replicas(desired: 2))),
        ]
        let result = try dir.engine().evaluate(.of(entities), at: time)
        #expect(result.decisions.map(\.message) == ["a", "b", "one"])
    }

    @Test func whereExcludesAndCheckMayReturnStringsFalseOrLists() throws {
        let dir = try TempRules([
            "r.lua": """
            policy { id = "w", severity = "low", description = "described", match = { kind = "application" },
              where = function(a) return a.name ~= "skip" end,
              check = function(a)
                if a.name == "s" then return "a plain message" end
                if a.name == "f" then return false end
                if a.name == "l" then return { deny("one"), deny("two", { n = 2 }) } end
                if a.name == "bad" then return 42 end
              end }
            """
        ])
        let result = try dir.engine().evaluate(.of([app("s"), app("f"), app("l"), app("bad"), app("skip"), app("ok")]), at: time)
        #expect(
            result.decisions.map(\.message) == [
                "a plain message", "described", "one", "two",
                "check must return nil (pass), deny(message [, evidence]), a message string or a list of deny(...); got a number",
            ])
        #expect(result.decisions.last?.type == .ruleError)
        #expect(result.stats.byRule.first?.skipped == 1)
    }

    @Test func rulesSeeTheEvaluationTimeNotTheClock() throws {
        let dir = try TempRules([
            "t.lua": """
            policy { id = "t", severity = "low", match = { kind = "application" },
              check = function(a) return deny(os.date("%Y-%m-%dT%H:%M:%SZ") .. " " .. tostring(now() == os.time())) end }
            """
        ])
        let result = try dir.engine().evaluate(.of([app("a")]), at: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(result.decisions.first?.message == "2023-11-14T22:13:20Z true")
    }

    @Test func rulesCanLookUpOtherEntities() throws {
        let dir = try TempRules([
            "x.lua": """
            policy { id = "x", severity = "low", match = { kind = "workload" },
              check = function(w)
                local a = state.get(w.application)
                if a and a.environment == "prod" then return deny(#state.list("application") .. " apps; owner env " .. a.environment) end
              end }
            """
        ])
        let entities: [Entity] = [
            app("pay"), app("web", env: "dev"),
            .workload(Workload(id: "workload/c/pay", name: "pay", application: "application/argocd/pay")),
            .workload(Workload(id: "workload/c/web", name: "web", application: "application/argocd/web")),
        ]
        let result = try dir.engine().evaluate(.of(entities), at: time)
        #expect(result.decisions.map(\.message) == ["2 apps; owner env prod"])
    }

    @Test func modulesLoadFromLibAndAreNotRules() throws {
        let dir = try TempRules([
            "lib/names.lua": "return { upper = function(s) return s:upper() end }",
            "r.lua":
                "local names = require('lib.names')\npolicy { id = 'r', severity = 'low', match = { kind = 'application' }, check = function(a) return deny(names.upper(a.name)) end }",
        ])
        let engine = try dir.engine()
        #expect(engine.files == ["rules/r.lua"])
        #expect(engine.evaluate(.of([app("pay")]), at: time).decisions.first?.message == "PAY")
    }

    @Test func evaluationIsDeterministic() throws {
        let root = PackageRoot.url()
        let engine = try RuleEngine(directory: root.appendingPathComponent("rules"), displayPath: "rules")
        var options = FleetLikeSnapshot.default
        options.apps = 60
        let snapshot = options.make()
        let a = engine.evaluate(snapshot, at: time).decisions
        let b = engine.evaluate(snapshot, at: time).decisions
        #expect(a == b)
        #expect(!a.isEmpty)
    }
}
