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
        .target(name: "MeowPlugins", dependencies: ["MeowModel"]),
        // Wires the engine to providers over time: simulation runs now, the observe loop later.
        .target(name: "MeowRuntime", dependencies: ["MeowModel", "MeowRules", "MeowPlugins"]),
        .target(name: "MeowTesting", dependencies: ["MeowModel", "LuaHost", "MeowRules"]),
        .executableTarget(
            name: "meow",
            dependencies: [
                "MeowModel", "MeowRules", "MeowPlugins", "MeowAnalytics", "MeowRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LuaHostTests", dependencies: ["LuaHost", "MeowTesting"]),
        .testTarget(name: "MeowModelTests", dependencies: ["MeowModel", "MeowPlugins"]),
        .testTarget(name: "MeowRulesTests", dependencies: ["MeowRules", "MeowTesting", "MeowPlugins"]),
        .testTarget(name: "MeowAnalyticsTests", dependencies: ["MeowAnalytics"]),
        .testTarget(name: "MeowRuntimeTests", dependencies: ["MeowRuntime", "MeowPlugins", "MeowRules", "MeowModel", "MeowTesting"]),
        .testTarget(name: "MeowPluginsTests", dependencies: ["MeowPlugins", "MeowModel", "MeowTesting"]),
        .testTarget(name: "meowTests", dependencies: ["MeowTesting"]),
    ]
)
