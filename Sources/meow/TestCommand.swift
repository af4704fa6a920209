import ArgumentParser
import Foundation
import MeowRules

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the *_test.lua files beside the rules through the real engine.",
        discussion: """
            A test gives fixture entities and the decisions it expects; by default it runs the rules of the
            file beside it (x_test.lua tests x.lua). `expect = {}` asserts that nothing fires.

              -- rules/prod-auto-sync_test.lua
              test "manual sync in prod is a violation" {
                entities = {
                  application { name = "pay", environment = "prod", sync_policy = { automated = false } },
                },
                expect = { { rule = "prod-auto-sync", subject = "application/test/pay" } },
              }

              test "self-healing prod app passes" {
                entities = {
                  application { name = "pay", environment = "prod",
                                sync_policy = { automated = true, self_heal = true } },
                },
                expect = {},
              }

            Fixture ids default to <kind>/test/<name>; unknown fields are errors. Options per test:
            rules = { "id", ... }, now = "2026-01-01T00:00:00Z". Results: PASS, FAIL (expected vs got),
            ERROR (the test itself is broken), SKIP (skip_test "name" { ... }).
            Exit: 0 all passed, 1 a test failed or errored (or a rule file is broken), 2 bad input.
            """
    )

    @OptionGroup var rulesDir: RulesOption
    @Option(name: .customLong("run"), help: "Run only tests whose name or file contains this text.") var filter: String?
    @Flag(name: .shortAndLong, help: "List passing tests too.") var verbose = false
    @Option(help: "Output format: text or json.") var output: OutputFormat = .text

    struct Report: Encodable {
        struct Summary: Encodable {
            var passed = 0, failed = 0, errored = 0, skipped = 0
        }
        var results: [RuleTestResult]
        var loadErrors: [String]
        var summary: Summary

        enum CodingKeys: String, CodingKey {
            case results, summary
            case loadErrors = "load_errors"
        }
    }

    func run() throws {
        let engine = try RuleEngine(directory: try rulesDir.url(), displayPath: rulesDir.rules)
        let results = try RuleTestRunner(engine: engine).run(filter: filter)
        var summary = Report.Summary()
        for r in results {
            switch r.status {
            case .pass: summary.passed += 1
            case .fail: summary.failed += 1
            case .error: summary.errored += 1
            case .skip: summary.skipped += 1
            }
        }
        switch output {
        case .json:
            print(try Console.json(Report(results: results, loadErrors: engine.loadErrors.map(\.description), summary: summary)))
        case .text:
            for e in engine.loadErrors { print(Console.red("ERROR \(e.description)")) }
            for r in results where verbose || r.status != .pass {
                let tag: String
                switch r.status {
                case .pass: tag = Console.green("PASS ")
                case .fail: tag = Console.red("FAIL ")
                case .error: tag = Console.red("ERROR")
                case .skip: tag = Console.yellow("SKIP ")
                }
                print("\(tag) \(r.file):\(r.line ?? 0): \(r.name)")
                if !r.message.isEmpty {
                    print(
                        r.message.split(separator: "\n", omittingEmptySubsequences: false).map { "      \($0)" }.joined(
                            separator: "\n"))
                }
            }
            print("--------------------------------------------------------------------------------")
            if summary.errored > 0 { print("\(summary.errored) errored (counted as failed)") }
            print("meow: \(summary.passed) passed, \(summary.failed + summary.errored) failed, \(summary.skipped) skipped")
        }
        if summary.failed + summary.errored > 0 || !engine.loadErrors.isEmpty { throw ExitCode(1) }
    }
}
