// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "meow",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "meow", targets: ["meow"]),
        .library(name: "MeowRules", targets: ["MeowRules"]),
        .library(name: "MeowModel", targets: ["MeowModel"]),
        .library(name: "MeowAnalytics", targets: ["MeowAnalytics"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // Debian's liblua5.4 (C build). The Makefile installs liblua5.4-dev when pkg-config can't find it.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        // The only code that calls Lua functions that can raise: protected calls, trampolines,
        // capped allocator, budget hook, bounded string functions.
        .target(name: "LuaShim", dependencies: ["CLua"]),
        .target(name: "MeowModel"),
        .target(name: "LuaHost", dependencies: ["LuaShim", "MeowModel"]),
        .target(name: "MeowAnalytics"),
        .target(name: "MeowRules", dependencies: ["LuaHost", "MeowModel", "MeowAnalytics"]),
        // Plugin protocol, manifests, registry, meow.yaml; one folder per built-in provider.
        .target(
            name: "MeowPlugins",
            dependencies: [
                "MeowModel", "LuaHost",
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The durable store: action ledger, audit, approvals, history (SQLite through GRDB; an interface a
        // PostgreSQL implementation can satisfy).
        .target(
            name: "MeowStore",
            dependencies: ["MeowModel", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The action pipeline (DESIGN §6): modes, guardrails, four-eyes approvals, execution, reconciliation.
        .target(
            name: "MeowActions",
            dependencies: ["MeowModel", "MeowStore", "MeowPlugins", .product(name: "Logging", package: "swift-log")]
        ),
        // Wires the engine to providers over time: simulation runs now, the observe loop later.
        .target(
            name: "MeowRuntime",
            dependencies: [
                "MeowModel", "MeowRules", "MeowPlugins", "MeowActions", "MeowStore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The sidecar HTTP API (DESIGN §9): /v1 routes over the runtime's published state, SSE, auth,
        // /metrics, the OpenAPI document.
        .target(
            name: "MeowServer",
            dependencies: [
                "MeowModel", "MeowRules", "MeowPlugins", "MeowActions", "MeowStore", "MeowRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("openapi.json")]
        ),
        // Faithful test doubles of services that cannot run here (Argo CD's API server, ...), built from
        // their documented API shapes; used by the tests and by `meow-doubles` for trying meow by hand.
        .target(
            name: "MeowDoubles",
            dependencies: [
                "MeowModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "meow-doubles",
            dependencies: [
                "MeowDoubles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "MeowTesting", dependencies: ["MeowModel", "LuaHost", "MeowRules"]),
        .executableTarget(
            name: "meow",
            dependencies: [
                "MeowModel", "MeowRules", "MeowPlugins", "MeowAnalytics", "MeowRuntime", "MeowActions", "MeowStore", "LuaHost",
                "MeowServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "LuaHostTests", dependencies: ["LuaHost", "MeowTesting"]),
        .testTarget(name: "MeowModelTests", dependencies: ["MeowModel", "MeowPlugins"]),
        .testTarget(name: "MeowRulesTests", dependencies: ["MeowRules", "MeowTesting", "MeowPlugins"]),
        .testTarget(name: "MeowAnalyticsTests", dependencies: ["MeowAnalytics"]),
        .testTarget(
            name: "MeowRuntimeTests",
            dependencies: ["MeowRuntime", "MeowPlugins", "MeowRules", "MeowModel", "MeowTesting", "MeowDoubles"]),
        .testTarget(name: "MeowPluginsTests", dependencies: ["MeowPlugins", "MeowModel", "MeowTesting", "MeowDoubles"]),
        .testTarget(
            name: "MeowActionsTests",
            dependencies: ["MeowActions", "MeowStore", "MeowPlugins", "MeowModel", "MeowRuntime", "MeowTesting"]),
        .testTarget(
            name: "meowTests",
            dependencies: [
                "MeowTesting", "MeowDoubles", "MeowModel", "MeowPlugins",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        .testTarget(
            name: "MeowServerTests",
            dependencies: ["MeowServer", "MeowModel", "MeowPlugins", "MeowRuntime", "MeowTesting"]),
    ]
)
