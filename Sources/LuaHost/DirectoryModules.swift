import Foundation

/// `require` for rules: `require("lib.util")` loads `<root>/lib/util.lua` as a text chunk named
/// `@<prefix>/lib/util.lua`. Names are dotted Lua module names only: no `..`, no absolute paths, no
/// other extensions, nothing outside `root` (symbolic links that leave it are refused too).
public struct DirectoryModules: Sendable {
    public let root: URL
    public let chunkPrefix: String

    public init(root: URL, chunkPrefix: String) {
        self.root = root.standardizedFileURL.resolvingSymlinksInPath()
        self.chunkPrefix = chunkPrefix
    }

    public func resolve(_ name: String) -> Result<(source: String, chunkName: String), LuaError> {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-."))
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(allowed.contains), !name.hasPrefix("."),
            !name.hasSuffix("."), !name.contains("..")
        else {
            return .failure(
                LuaError(
                    message:
                        "module '\(name)' not allowed: use a dotted name of a .lua file under the rules directory (e.g. require(\"lib.util\"))",
                    kind: .host))
        }
        let relative = name.replacingOccurrences(of: ".", with: "/") + ".lua"
        let url = root.appendingPathComponent(relative).standardizedFileURL.resolvingSymlinksInPath()
        guard url.path.hasPrefix(root.path + "/") else {
            return .failure(LuaError(message: "module '\(name)' is outside the rules directory", kind: .host))
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return .failure(LuaError(message: "module '\(name)' not found: no file \(chunkPrefix)/\(relative)", kind: .host))
        }
        return .success((String(decoding: data, as: UTF8.self), "@\(chunkPrefix)/\(relative)"))
    }
}
