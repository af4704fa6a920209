import Foundation
import MeowModel
import MeowRules

/// A temporary rules directory with the given files, removed on deinit.
///
/// ```swift
/// let dir = try TempRules(["a.lua": "policy { ... }"])
/// let engine = try dir.engine()
/// ```
public final class TempRules {
    public let url: URL

    public init(_ files: [String: String]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("meow-rules-\(UUID().uuidString)")
        for (name, text) in files {
            let file = url.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// An engine over the directory, with file names shown as `rules/<file>`.
    public func engine(options: RuleEngine.Options = .init()) throws -> RuleEngine {
        try RuleEngine(directory: url, displayPath: "rules", options: options)
    }
}

/// Root of the package checkout (for tests that read rules/, docs/ or run the built binary).
public enum PackageRoot {
    public static func url(file: StaticString = #filePath) -> URL {
        var u = URL(fileURLWithPath: "\(file)")
        while u.path != "/" {
            u = u.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: u.appendingPathComponent("Package.swift").path) { return u }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }
}

extension Snapshot {
    /// A snapshot of the given entities at 2026-01-01T00:00:00Z.
    public static func of(_ entities: [Entity]) -> Snapshot {
        Snapshot(revision: 1, observedAt: Date(timeIntervalSince1970: 1_767_225_600), entities: entities)
    }
}
