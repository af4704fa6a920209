import Foundation
import MeowRules
import MeowTesting
import Testing

@Suite struct RuleTestRunnerTests {
    let rule = """
        policy { id = "owner", severity = "low", match = { kind = "application" },
          check = function(a) if a.labels.owner == nil then return deny("no owner") end end }
        """

    func run(_ test: String) throws -> [RuleTestResult] {
        let dir = try TempRules(["owner.lua": rule, "owner_test.lua": test])
        return try RuleTestRunner(engine: try dir.engine()).run()
    }

    @Test func passingAndFailingTestsAreTold() throws {
        let results = try run(
            """
            test "missing owner fires" {
              entities = { application { name = "pay" } },
              expect = { { rule = "owner", subject = "application/test/pay", message = "no owner" } },
            }
            test "wrong expectation fails" {
              entities = { application { name = "pay", labels = { owner = "x" } } },
              expect = { { subject = "pay" } },
            }
            test "unexpected decision fails" {
              entities = { application { name = "pay" } },
              expect = {},
            }
            skip_test "later" { entities = {}, expect = {} }
            """)
        #expect(results.map(\.status) == [.pass, .fail, .fail, .skip])
        #expect(results[1].message.contains("missing:    violation owner on pay"))
        #expect(results[2].message.contains("unexpected: violation owner on application/test/pay: \"no owner\""))
        #expect(results[1].line == 5)
    }

    @Test func brokenTestsAreErrorsNamingTheField() throws {
        let results = try run(
            """
            test "typo in a fixture" {
              entities = { application { name = "pay", lables = { owner = "x" } } },
              expect = {},
            }
            test "wrong type in a fixture" {
              entities = { application { name = "pay", sync_policy = { automated = "yes" } } },
              expect = {},
            }
            test "no expect" { entities = {} }
            test "unknown rule" { entities = {}, rules = { "nope" }, expect = {} }
            """)
        #expect(results.map(\.status) == [.error, .error, .error, .error])
        #expect(results[0].message.contains("unknown field 'lables'"))
        #expect(results[1].message.contains("sync_policy.automated"))
        #expect(results[2].message.contains("missing 'expect'"))
        #expect(results[3].message.contains("no rule has id 'nope'"))
    }

    @Test func aBrokenTestFileIsAnError() throws {
        let results = try run("test \"x\" {\n  entities = {},\n  expect = {\n")
        #expect(results.count == 1)
        #expect(results[0].status == .error)
        #expect(results[0].file == "rules/owner_test.lua")
    }

    @Test func theStandardRulesPassTheirTests() throws {
        let engine = try RuleEngine(directory: PackageRoot.url().appendingPathComponent("rules"), displayPath: "rules")
        #expect(engine.loadErrors.isEmpty)
        #expect(engine.rules.count >= 8)
        let results = try RuleTestRunner(engine: engine).run()
        let failing = results.filter { $0.status != .pass }
        #expect(failing.isEmpty, "\(failing.map { "\($0.name): \($0.message)" })")
        // every rule file has a test file beside it
        for file in engine.files {
            let test = file.replacingOccurrences(of: ".lua", with: "_test.lua")
            #expect(results.contains { $0.file == test }, "\(file) has no passing tests in \(test)")
        }
    }
}
