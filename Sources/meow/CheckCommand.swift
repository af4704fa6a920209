import ArgumentParser
import Foundation
import MeowRules

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load every rule file, list the rules, and report errors as file:line: message.",
        discussion: """
            A rule file declares policies with the rule language (docs/rules.md):

              -- rules/prod-auto-sync.lua
              policy {
                id = "prod-auto-sync",
                description = "Production apps sync automatically with self-heal",
                severity = "high",
                match = { kind = "application", environment = "prod" },
                check = function(app)
                  local p = app.sync_policy
                  if not (p and p.automated) then return deny("automated sync is off") end
                  if not p.self_heal then return deny("self-heal is off") end
                end,
              }

            meow check --rules rules     lists each rule; exit 0 when all load, 2 when any file or rule is broken.
            """
    )

    @OptionGroup var rulesDir: RulesOption
    @Option(help: "Output format: text or json.") var output: OutputFormat = .text

    struct Report: Encodable {
        struct Rule: Encodable {
            var id: String
            var type: String
            var severity: String
            var kind: String
            var description: String?
            var file: String
            var line: Int
        }
        struct Problem: Encodable {
            var file: String
            var line: Int?
            var rule: String?
            var message: String
        }
        var files: [String]
        var rules: [Rule]
        var errors: [Problem]
    }

    func run() throws {
        let engine = try RuleEngine(directory: try rulesDir.url(), displayPath: rulesDir.rules)
        let report = Report(
            files: engine.files,
            rules: engine.rules.map {
                .init(
                    id: $0.id, type: $0.kind.rawValue, severity: $0.severity.rawValue, kind: $0.match.kind.rawValue,
                    description: $0.description, file: $0.file, line: $0.line)
            },
            errors: engine.loadErrors.map { .init(file: $0.file, line: $0.line, rule: $0.rule, message: $0.message) })
        switch output {
        case .json:
            print(try Console.json(report))
        case .text:
            let width = engine.rules.map(\.id.count).max() ?? 10
            for r in engine.rules {
                print(
                    "\(r.id.padding(toLength: width, withPad: " ", startingAt: 0))  \(r.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0))  \(r.severity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(r.match.kind.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0))  \(Console.dim("\(r.file):\(r.line)"))"
                )
            }
            for e in engine.loadErrors { print(Console.red(e.description)) }
            let summary = "\(engine.rules.count) rules in \(engine.files.count) files, \(engine.loadErrors.count) errors"
            print(engine.loadErrors.isEmpty ? Console.green(summary) : Console.red(summary))
        }
        if !engine.loadErrors.isEmpty { throw ExitCode(2) }
    }
}
