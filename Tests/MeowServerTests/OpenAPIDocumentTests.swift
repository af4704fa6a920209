import Foundation
import MeowModel
import MeowPlugins
import MeowRuntime
import MeowTesting
import Testing

@testable import MeowServer

/// The OpenAPI document and the route table are one contract: the same operations, the same query
/// parameters, the same roles. (Answers are checked against its schemas by the end-to-end test in
/// meowTests, through scripts/openapi-check.py.)
struct OpenAPIDocumentTests {
    static func api() throws -> API {
        let config = try MeowConfig.parse(
            """
            rules: {dir: \(PackageRoot.url().path)/rules}
            providers: [{name: sim, plugin: simulator, apps: 3}]
            """, file: "/tmp/meow-openapi-test.yaml")
        return API(runtime: try Runtime(config: config), config: config, store: nil, hub: EventHub())
    }

    static func document() throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(try OpenAPIDocument.text().utf8))
    }

    @Test func everyRouteIsDocumentedAndNothingElse() throws {
        let doc = try Self.document()
        #expect(doc["openapi"] == "3.1.0")
        let paths = try #require(doc["paths"]?.objectValue)
        var documented = Set<String>()
        for (path, item) in paths {
            for (method, _) in item.objectValue ?? [:] where ["get", "post", "put", "patch", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let implemented = Set(try Self.api().routes.map { "\($0.method) \($0.path)" })
        #expect(implemented.subtracting(documented).isEmpty, "not documented: \(implemented.subtracting(documented).sorted())")
        #expect(
            documented.subtracting(implemented).isEmpty,
            "documented, not implemented: \(documented.subtracting(implemented).sorted())")
    }

    @Test func queryParametersAndSecurityMatchTheRoutes() throws {
        let doc = try Self.document()
        for route in try Self.api().routes {
            let op = try #require(doc["paths"]?[route.path]?[route.method.lowercased()], "\(route.method) \(route.path)")
            let params = op["parameters"]?.arrayValue ?? []
            let query = Set(params.filter { $0["in"] == "query" }.compactMap { $0["name"]?.stringValue })
            #expect(
                query == Set(route.query),
                "\(route.method) \(route.path): documented \(query.sorted()), implemented \(route.query.sorted())")
            if route.path.contains("{id}") {
                #expect(params.contains { $0["in"] == "path" && $0["name"] == "id" }, "\(route.path): the id parameter")
            }
            let open = op["security"]?.arrayValue?.isEmpty == true
            #expect(open == (route.role == nil), "\(route.method) \(route.path): security [] exactly when no role is needed")
            if let role = route.role {
                #expect(
                    op["description"]?.stringValue?.contains("Role: \(role.rawValue)") == true,
                    "\(route.method) \(route.path): the description names the role \(role.rawValue)")
                #expect(op["responses"]?["401"] != nil, "\(route.method) \(route.path): 401 documented")
            }
            #expect(op["operationId"]?.stringValue != nil)
        }
    }
}
