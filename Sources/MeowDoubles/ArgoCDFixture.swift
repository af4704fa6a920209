import Foundation
import MeowModel

extension ArgoCDDouble {
    /// What an Argo CD double serves: applications and clusters as Argo CD's API returns them, and
    /// commit metadata by revision. Load one from JSON (`{"applications": [...], "clusters": [...],
    /// "revisions": {...}}`) or generate a sample.
    public struct Fixture: Sendable {
        public var applications: [Value]
        public var clusters: [Value]
        public var revisions: [String: Value]

        public init(applications: [Value], clusters: [Value], revisions: [String: Value]) {
            self.applications = applications
            self.clusters = clusters
            self.revisions = revisions
        }

        public static func load(path: String) throws -> Fixture {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw FixtureError(message: "\(path): cannot read the file")
            }
            let v = try JSONDecoder().decode(Value.self, from: data)
            guard let apps = v["applications"]?.arrayValue else {
                throw FixtureError(
                    message: "\(path): expected {\"applications\": [...], \"clusters\": [...], \"revisions\": {...}}")
            }
            return Fixture(
                applications: apps, clusters: v["clusters"]?.arrayValue ?? [], revisions: v["revisions"]?.objectValue ?? [:])
        }

        public var json: Value {
            .object(["applications": .array(applications), "clusters": .array(clusters), "revisions": .object(revisions)])
        }

        /// A 40-hex-digit revision derived from a text (stable across runs).
        public static func sha(_ text: String) -> String {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            var out = ""
            for round in 0..<3 {
                for b in "\(round):\(text)".utf8 {
                    h ^= UInt64(b)
                    h = h &* 0x100_0000_01b3
                }
                out += String(h, radix: 16).leftPadded(16)
            }
            return String(out.prefix(40))
        }

        static let services: [(String, String, String)] = [
            ("payments-api", "payments", "critical"), ("checkout-web", "checkout", "high"),
            ("search-indexer", "search", "medium"),
            ("identity-auth", "identity", "critical"), ("catalog-api", "catalog", "high"), ("billing-worker", "billing", "high"),
            ("ledger-sync", "ledger", "critical"), ("notifications", "notifications", "medium"), ("data-export", "data", "low"),
            ("growth-experiments", "growth", "low"), ("recommendations", "search", "medium"),
            ("inventory-api", "catalog", "high"),
        ]

        /// A realistic Argo CD for one environment: `apps` applications on two clusters, with history,
        /// resources, images, commit metadata, and a few problems a policy should catch (a `:latest`
        /// image, an application without owner, manual sync, a failed sync, drift).
        public static func sample(environment: String, apps: Int = 8, at now: Date = Date()) -> Fixture {
            var applications: [Value] = []
            var revisions: [String: Value] = [:]
            let clusters: [Value] = (1...2).map { c in
                .object([
                    "server": .string("https://\(environment)-\(c).k8s.example.com"), "name": .string("\(environment)-\(c)"),
                    "serverVersion": .string("1.30"),
                    "connectionState": .object(["status": .string("Successful"), "message": .string("")]),
                    "info": .object([
                        "serverVersion": .string("1.30"), "applicationsCount": .int(Int64(apps / 2)),
                        "connectionState": .object(["status": .string("Successful")]),
                    ]),
                    "labels": .object(["meow.io/environment": .string(environment)]),
                ])
            }
            for i in 0..<apps {
                let (service, team, criticality) = services[i % services.count]
                let name = i < services.count ? "\(service)-\(environment)" : "\(service)-\(i / services.count)-\(environment)"
                var history: [Value] = []
                var revs: [String] = []
                for h in 0..<3 {
                    let rev = sha("\(name)/\(h)")
                    revs.append(rev)
                    // the latest deployment within the last day, the two before it older
                    let at = now.addingTimeInterval(-Double((2 - h) * 86400 + (i + 1) * 600))
                    history.append(
                        .object([
                            "id": .int(Int64(h)), "revision": .string(rev), "deployedAt": .string(Timestamp.format(at)),
                            "deployStartedAt": .string(Timestamp.format(at.addingTimeInterval(-40))),
                            "source": .object([
                                "repoURL": .string("https://github.com/example/\(service).git"),
                                "path": .string("deploy/\(environment)"),
                            ]),
                        ]))
                    revisions[rev] = .object([
                        "author": .string("\(team) dev <\(team)@example.com>"),
                        "date": .string(Timestamp.format(at.addingTimeInterval(-3600))),
                        "message": .string(h == 2 ? "Bump \(service) to v1.\(i).\(h)" : "Change \(h) of \(service)"),
                        "tags": .array([]),
                    ])
                }
                let degraded = i == 3
                let outOfSync = i == 5
                let manual = i == 2
                let latest = i == 1
                let ownerless = i == 6
                let revision = revs.last!
                var labels: [String: Value] = ["app.kubernetes.io/name": .string(service)]
                if !ownerless {
                    labels["meow.io/owner"] = .string(team)
                    labels["team"] = .string(team)
                }
                labels["meow.io/criticality"] = .string(criticality)
                let image = latest ? "ghcr.io/example/\(service):latest" : "ghcr.io/example/\(service):1.\(i).2"
                let started = Timestamp.format(now.addingTimeInterval(-Double(600 + i * 60)))
                let finished = Timestamp.format(now.addingTimeInterval(-Double(540 + i * 60)))
                var app: [String: Value] = [
                    "metadata": .object([
                        "name": .string(name), "namespace": .string("argocd"), "labels": .object(labels),
                        "annotations": .object(["meow.io/tier": .string(i % 3 == 0 ? "1" : "2")]),
                        "creationTimestamp": .string(Timestamp.format(now.addingTimeInterval(-90 * 86400))),
                    ]),
                    "spec": .object([
                        "project": .string(team),
                        "source": .object([
                            "repoURL": .string("https://github.com/example/\(service).git"),
                            "path": .string("deploy/\(environment)"),
                            "targetRevision": .string(environment == "prod" ? "v1.\(i).2" : "main"),
                        ]),
                        "destination": .object([
                            "server": .string("https://\(environment)-\(i % 2 + 1).k8s.example.com"), "namespace": .string(team),
                        ]),
                    ]),
                ]
                if !manual {
                    if case .object(var spec)? = app["spec"] {
                        spec["syncPolicy"] = .object([
                            "automated": .object(["prune": .bool(true), "selfHeal": .bool(true)]),
                            "syncOptions": .array([.string("CreateNamespace=true")]),
                        ])
                        app["spec"] = .object(spec)
                    }
                }
                app["status"] = .object([
                    "sync": .object(["status": .string(outOfSync ? "OutOfSync" : "Synced"), "revision": .string(revision)]),
                    "health": degraded
                        ? .object([
                            "status": .string("Degraded"),
                            "message": .string("Deployment \"\(service)\" exceeded its progress deadline"),
                        ])
                        : .object(["status": .string("Healthy")]),
                    "history": .array(history),
                    "operationState": .object([
                        "operation": .object(["sync": .object(["revision": .string(revision)])]),
                        "phase": .string(degraded ? "Failed" : "Succeeded"),
                        "message": .string(
                            degraded ? "one or more objects failed to apply" : "successfully synced (all tasks run)"),
                        "syncResult": .object(["revision": .string(revision)]), "startedAt": .string(started),
                        "finishedAt": .string(finished),
                    ]),
                    "resources": .array(
                        [("apps", "Deployment", service), ("", "Service", service), ("", "ConfigMap", "\(service)-config")].map {
                            g, k, n in
                            .object([
                                "group": .string(g), "version": .string("v1"), "kind": .string(k), "namespace": .string(team),
                                "name": .string(n), "status": .string(outOfSync && k == "ConfigMap" ? "OutOfSync" : "Synced"),
                                "health": .object(["status": .string(degraded && k == "Deployment" ? "Degraded" : "Healthy")]),
                            ])
                        }),
                    "summary": .object(["images": .array([.string(image)])]),
                    "reconciledAt": .string(Timestamp.format(now.addingTimeInterval(-120))),
                    "sourceType": .string("Kustomize"),
                ])
                applications.append(.object(app))
            }
            return Fixture(applications: applications, clusters: clusters, revisions: revisions)
        }
    }

    public struct FixtureError: Error, CustomStringConvertible, Sendable {
        public var message: String
        public var description: String { message }
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
