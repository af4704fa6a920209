import ArgumentParser
import Foundation

/// `--output text|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Bad input the user can fix: printed as `error: <message>`, exit code 2.
struct InputError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

enum Console {
    static func error(_ text: String) {
        let line = text.hasPrefix("Error:") || text.hasPrefix("error:") ? text : "error: \(text)"
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func progress(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Colour only on a terminal, and never when NO_COLOR is set.
    static let color: Bool = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    static func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
    static func bold(_ s: String) -> String { paint(s, "1") }
    static func red(_ s: String) -> String { paint(s, "31") }
    static func yellow(_ s: String) -> String { paint(s, "33") }
    static func green(_ s: String) -> String { paint(s, "32") }
    static func dim(_ s: String) -> String { paint(s, "2") }

    static func json<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// `1234567` → `1,234,567`.
    static func count(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }
}

/// Resolves `--rules DIR` and loads the engine, or fails with exit 2.
struct RulesOption: ParsableArguments {
    @Option(name: .long, help: "Directory of rule files (*.lua; *_test.lua are tests; lib/ holds modules).")
    var rules: String = "rules"

    func url() throws -> URL {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rules, isDirectory: &isDir), isDir.boolValue else {
            throw InputError("--rules \(rules): no such directory")
        }
        return URL(fileURLWithPath: rules)
    }
}
