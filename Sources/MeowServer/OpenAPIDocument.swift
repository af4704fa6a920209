import Foundation

/// The OpenAPI 3.1 document (`Sources/MeowServer/openapi.json`, served at `/openapi.json`); the tests check
/// it against `API.routes` and the answers of a running server.
public enum OpenAPIDocument {
    public static func text() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let data = FileManager.default.contents(atPath: url.path)
        else { throw Problem(500, "internal", "the OpenAPI document is missing from this build") }
        return String(decoding: data, as: UTF8.self)
    }
}
