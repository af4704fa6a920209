import Foundation
import MeowDoubles
import MeowModel
import MeowTesting
import Testing

@testable import MeowPlugins

/// The Argo CD provider against the Argo CD double on 127.0.0.1 (real HTTP, real client code path).
@Suite struct ArgoCDProviderTests {
    let tokenFile: String

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-argocd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        tokenFile = dir.appendingPathComponent("token").path
        try "test-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
    }

    func start(_ fixture: ArgoCDDouble.Fixture = .sample(environment: "prod")) async throws -> ArgoCDDouble {
        let double = ArgoCDDouble(fixture: fixture)
        _ = try await double.start()
        return double
    }

    func provider(
        _ double: ArgoCDDouble, name: String = "argocd-prod", settings: [String: Value] = [:], timeout: TimeInterval = 5
    ) async throws -> ArgoCDProvider {
        var s: [String: Value] = ["url": .string(await double.baseURL), "token_file": .string(tokenFile)]
        for (k, v) in settings { s[k] = v }
        let manifest = try #require(PluginRegistry.builtin.plugin("argocd")?.manifest)
        return try ArgoCDProvider(
            manifest: manifest, context: ProviderContext(name: name, environment: "prod", settings: s, timeout: timeout))
    }

    func apps(_ o: Observation) -> [String: Application] {
        var out: [String: Application] = [:]
        for e in o.entities { if case .application(let a) = e { out[a.id] = a } }
        return out
    }

    @Test func applicationsAreMappedToTheStateModel() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        let o = try await p.observe()
        let apps = apps(o)
        #expect(apps.count == 8)
        let payments = try #require(apps["application/argocd-prod/payments-api-prod"])
        #expect(payments.provider == "argocd-prod" && payments.instance == "argocd-prod")
        #expect(payments.environment == "prod")
        #expect(payments.project == "payments")
        #expect(payments.cluster == "cluster/argocd-prod/prod-1")
        #expect(payments.namespace == "payments")
        #expect(payments.repo == "https://github.com/example/payments-api.git")
        #expect(payments.path == "deploy/prod" && payments.targetRevision == "v1.0.2")
        #expect(payments.syncStatus == "Synced" && payments.health == "Healthy")
        #expect(payments.syncPolicy == SyncPolicy(automated: true, prune: true, selfHeal: true))
        #expect(payments.history?.count == 3 && payments.history?.allSatisfy { $0.outcome == "succeeded" } == true)
        #expect(payments.history?.last?.revision == payments.syncedRevision)
        #expect(payments.resources?.total == 3 && payments.resources?.kinds?["Deployment"] == 1)
        #expect(payments.images == ["ghcr.io/example/payments-api:1.0.2"])
        #expect(payments.owner == "payments" && payments.criticality == "critical" && payments.tier == "1")
        #expect(payments.observedAt != nil)
        // the failed sync: operation Failed, health Degraded, a failed history record
        let identity = try #require(apps["application/argocd-prod/identity-auth-prod"])
        #expect(identity.health == "Degraded" && identity.operation?.phase == "Failed")
        #expect(identity.history?.last?.outcome == "failed")
        #expect(identity.resources?.degraded == 1)
        // manual sync: a sync policy without automated
        #expect(apps["application/argocd-prod/search-indexer-prod"]?.syncPolicy == nil)
        // clusters and changes
        let clusters = o.entities.compactMap { e -> Cluster? in if case .cluster(let c) = e { c } else { nil } }
        #expect(clusters.map(\.id).sorted() == ["cluster/argocd-prod/prod-1", "cluster/argocd-prod/prod-2"])
        #expect(clusters[0].conditions?.first?.status == "True" && clusters[0].version == "1.30")
        let changes = o.entities.compactMap { e -> Change? in if case .change(let c) = e { c } else { nil } }
        #expect(changes.count == 16)  // revision_metadata 2 × 8 applications
        let latest = try #require(changes.first { $0.revision == payments.syncedRevision })
        #expect(latest.author == "payments dev <payments@example.com>")
        #expect(latest.message == "Bump payments-api to v1.0.2")
        #expect(latest.application == payments.id && latest.time != nil)
        // events: the latest deployment of each application (within event_window, 24h) and the failed sync
        let events = o.entities.compactMap { e -> Event? in if case .event(let v) = e { v } else { nil } }
        #expect(events.filter { $0.type == "deploy" }.count == 8)
        let deploy = try #require(events.first { $0.subject == payments.id && $0.type == "deploy" })
        #expect(
            deploy.id == "event/argocd-prod/payments-api-prod/deploy/2"
                && deploy.details?["revision"] == .string(payments.syncedRevision!))
        let failed = try #require(events.first { $0.type == "sync_failed" })
        #expect(failed.subject == identity.id && failed.message?.contains("Failed: one or more objects failed to apply") == true)
        #expect(events.count == 9)
        #expect(o.warnings.isEmpty)
        // every request carried the token
        let requests = await double.requests
        #expect(requests.allSatisfy { $0.authorization == "Bearer test-token" })
    }

    @Test func revisionMetadataIsReadOncePerRevision() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        _ = try await p.observe()
        await double.clearRequests()
        let second = try await p.observe()
        let paths = await double.requests.map(\.path)
        #expect(paths == ["/api/v1/applications", "/api/v1/clusters"])
        #expect(second.entities.filter { $0.kind == .change }.count == 16)
    }

    @Test func applicationsArePagedWithOffsetAndLimit() async throws {
        let double = try await start(.sample(environment: "prod", apps: 7))
        defer { Task { await double.stop() } }
        let p = try await provider(double, settings: ["page_size": .int(3), "revision_metadata": .int(0)])
        defer { Task { await p.shutdown() } }
        let o = try await p.observe()
        #expect(apps(o).count == 7)
        let lists = await double.requests.filter { $0.path == "/api/v1/applications" }
        #expect(lists.map { $0.query.first { $0.0 == "offset" }?.1 } == ["0", "3", "6"])
        #expect(lists.allSatisfy { $0.query.contains { $0 == ("limit", "3") } })
        // a server that ignores pagination answers with everything at once: one request, no duplicates
        await double.setPagination(false)
        await double.clearRequests()
        let all = try await p.observe()
        #expect(apps(all).count == 7 && all.entities.filter { $0.kind == .application }.count == 7)
        #expect(await double.requests.filter { $0.path == "/api/v1/applications" }.count == 1)
    }

    @Test func projectsAndSelectorAreSentToTheServer() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let p = try await provider(
            double, settings: ["projects": .array([.string("payments"), .string("search")]), "revision_metadata": .int(0)])
        defer { Task { await p.shutdown() } }
        let o = try await p.observe()
        #expect(Set(apps(o).values.compactMap(\.project)) == ["payments", "search"])
        let q = try #require(await double.requests.first { $0.path == "/api/v1/applications" }?.query)
        #expect(q.filter { $0.0 == "projects" }.map(\.1) == ["payments", "search"])
    }

    @Test(arguments: [
        (401, ProviderError.Kind.unauthorized, "401 Unauthorized"), (403, .forbidden, "403 Forbidden"),
        (404, .notFound, "404 Not Found"), (500, .unavailable, "500 from"), (502, .unavailable, "502 from"),
        (503, .unavailable, "503 from"),
    ])
    func httpErrorsBecomeProviderErrors(status: Int, kind: ProviderError.Kind, text: String) async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        await double.inject(.init(.status(status), pathPrefix: "/api/v1/applications"))
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        do {
            _ = try await p.observe()
            Issue.record("observe succeeded despite \(status)")
        } catch let e as ProviderError {
            #expect(e.kind == kind)
            #expect(e.message.contains("GET /api/v1/applications: \(text)"), "\(e.message)")
            #expect(e.isTransient == (status >= 500))
        }
    }

    @Test func aWrongTokenIsUnauthorizedAndAReadOnlyTokenForbidden() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        await double.setTokens(["another-token"])
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        await #expect(
            throws: ProviderError(
                .unauthorized,
                "GET /api/v1/applications: 401 Unauthorized from \(await double.baseURL): invalid session: token signature is invalid (check token_env/token_file)"
            )
        ) {
            try await p.observe()
        }
        await double.setTokens([])
        await double.setReadOnlyTokens(["test-token"])
        do {
            _ = try await p.observe()
            Issue.record("a token without rights observed")
        } catch let e as ProviderError {
            #expect(e.kind == .forbidden && e.message.contains("permission denied"))
        }
    }

    @Test func aSlowServerTimesOut() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        await double.inject(.init(.delay(30), pathPrefix: "/api/v1/applications", count: 1))
        let p = try await provider(double, timeout: 0.3)
        defer { Task { await p.shutdown() } }
        let started = Date()
        do {
            _ = try await p.observe()
            Issue.record("a 30 s answer beat a 0.3 s timeout")
        } catch let e as ProviderError {
            #expect(e.kind == .timeout)
            #expect(e.message.contains("no answer from"))
        }
        #expect(Date().timeIntervalSince(started) < 20)  // the client gave up long before the answer
    }

    @Test func malformedAndMisshapenJSONIsReportedWithWhere() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        await double.inject(.init(.malformed, pathPrefix: "/api/v1/applications", count: 1))
        do {
            _ = try await p.observe()
            Issue.record("truncated JSON accepted")
        } catch let e as ProviderError {
            #expect(e.kind == .malformed && e.message.contains("malformed JSON from"))
        }
        await double.inject(.init(.wrongShape, pathPrefix: "/api/v1/applications", count: 1))
        do {
            _ = try await p.observe()
            Issue.record("wrong shape accepted")
        } catch let e as ProviderError {
            #expect(e.kind == .malformed && e.message.contains("at items"), "\(e.message)")
        }
        // and the next poll works again
        #expect(apps(try await p.observe()).count == 8)
    }

    @Test func partialFailuresAreWarnings() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        await double.inject(.init(.status(403), pathPrefix: "/api/v1/clusters"))
        await double.inject(.init(.status(404), pathPrefix: "/api/v1/applications/payments-api-prod/revisions"))
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        let o = try await p.observe()
        #expect(apps(o).count == 8)
        #expect(o.entities.filter { $0.kind == .cluster }.isEmpty)
        #expect(o.warnings.contains { $0.hasPrefix("clusters not observed: GET /api/v1/clusters: 403 Forbidden") })
        #expect(o.warnings.contains { $0.contains("revision metadata https://github.com/example/payments-api.git@") })
        #expect(o.entities.filter { $0.kind == .change }.count == 14)
    }

    @Test func theHealthCheckSaysWhoIsLoggedInAndWhatIsVisible() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        let ok = await p.checkHealth()
        #expect(ok == ProviderHealth(ok: true, message: "Argo CD v2.13.1+double, logged in as meow, 8 applications visible"))
        await double.setTokens(["rotated"])
        let refused = await p.checkHealth()
        #expect(!refused.ok && refused.message.contains("the token is not accepted"))
        await double.stop()
        let down = await p.checkHealth()
        #expect(!down.ok)
    }

    @Test func tlsTrustsTheConfiguredCAOnly() async throws {
        let tls = PackageRoot.url().appendingPathComponent("Tests/MeowPluginsTests/Fixtures/tls")
        let double = ArgoCDDouble(fixture: .sample(environment: "prod", apps: 2))
        _ = try await double.start(
            tls: (tls.appendingPathComponent("server.pem").path, tls.appendingPathComponent("server.key").path))
        defer { Task { await double.stop() } }
        #expect(await double.baseURL.hasPrefix("https://127.0.0.1:"))
        // the test CA is trusted through ca_file
        let trusted = try await provider(double, settings: ["ca_file": .string(tls.appendingPathComponent("ca.pem").path)])
        #expect(apps(try await trusted.observe()).count == 2)
        await trusted.shutdown()
        // without it the certificate is refused, and the error says where to look
        let untrusted = try await provider(double, timeout: 2)
        do {
            _ = try await untrusted.observe()
            Issue.record("an unknown CA was trusted")
        } catch let e as ProviderError {
            #expect(e.kind == .unavailable)
            #expect(
                e.message.contains("TLS") || e.message.contains("certificate") || e.message.contains("handshake"), "\(e.message)")
        }
        await untrusted.shutdown()
        // insecure skips verification (testing only)
        let insecure = try await provider(double, settings: ["insecure": .bool(true)])
        #expect(apps(try await insecure.observe()).count == 2)
        await insecure.shutdown()
        // a CA file that is not PEM is refused when the instance is built
        #expect(throws: ProviderError.self) {
            _ = try ProviderHTTPClient(
                baseURL: "https://x", caFile: tls.appendingPathComponent("server.key").path + ".missing", timeout: 1)
        }
    }

    @Test func aDoubleOnATakenPortFailsToStartInsteadOfWaiting() async throws {
        let first = try await start()
        defer { Task { await first.stop() } }
        let port = try #require(await first.port)
        let second = ArgoCDDouble(fixture: .sample(environment: "prod", apps: 1))
        await #expect(throws: DoubleError.self) { _ = try await second.start(port: port) }
    }

    @Test func aRefusedConnectionIsUnavailable() async throws {
        let double = try await start()
        let p = try await provider(double, timeout: 1)
        defer { Task { await p.shutdown() } }
        await double.stop()
        do {
            _ = try await p.observe()
            Issue.record("observed a stopped server")
        } catch let e as ProviderError {
            #expect(e.kind == .unavailable)
        }
    }

    @Test func syncAndRollbackChangeTheStateThatIsObservedBack() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let p = try await provider(double, settings: ["revision_metadata": .int(0)])
        defer { Task { await p.shutdown() } }
        // reconcile before and after: has a sync started since the call?
        let syncRequest = ActionRequest(
            action: "sync", subject: "application/argocd-prod/billing-worker-prod", params: ["revision": .string("abc123")],
            key: "k", startedAt: Date().addingTimeInterval(-0.5))
        guard case .notDone = await p.reconcile(syncRequest) else {
            Issue.record("no sync yet: reconcile must say not done")
            return
        }
        // sync to a revision
        let out = try await p.perform(
            ActionRequest(
                action: "sync", subject: "application/argocd-prod/billing-worker-prod", params: ["revision": .string("abc123")]))
        #expect(out.ok && out.message == "sync of billing-worker-prod started at abc123")
        #expect(out.details["revision"] == .string("abc123"))
        let body = try #require(await double.requests.last?.body)
        #expect(body["revision"] == .string("abc123") && body["prune"] == .bool(false) && body["dryRun"] == .bool(false))
        guard case .done(let why) = await p.reconcile(syncRequest) else {
            Issue.record("after the sync, reconcile must say done")
            return
        }
        #expect(why.contains("phase Succeeded"))
        var billing = try #require(apps(try await p.observe())["application/argocd-prod/billing-worker-prod"])
        #expect(billing.syncStatus == "Synced" && billing.syncedRevision == "abc123" && billing.history?.count == 4)
        // rollback is refused while automated sync is on (Argo CD's rule), with Argo CD's message
        do {
            _ = try await p.perform(ActionRequest(action: "rollback", subject: billing.id, params: ["id": .int(1)]))
            Issue.record("rollback with auto-sync accepted")
        } catch let e as ProviderError {
            #expect(e.kind == .invalid && e.message.contains("rollback cannot be initiated when auto-sync is enabled"))
        }
        // a manual-sync application rolls back
        let search = "application/argocd-prod/search-indexer-prod"
        let before = try #require(apps(try await p.observe())[search])
        let target = try #require(before.history?.first)
        _ = try await p.perform(ActionRequest(action: "rollback", subject: search, params: ["id": .int(Int64(target.id!))]))
        billing = try #require(apps(try await p.observe())[search])
        #expect(billing.syncedRevision == target.revision && billing.syncStatus == "OutOfSync")
        // terminate with no running operation: Argo CD's refusal
        await #expect(throws: ProviderError.self) {
            try await p.perform(ActionRequest(action: "terminate_operation", subject: search))
        }
        // refresh asks with refresh=hard
        _ = try await p.perform(ActionRequest(action: "refresh", subject: search, params: ["hard": .bool(true)]))
        #expect(await double.requests.last?.query.contains { $0 == ("refresh", "hard") } == true)
    }

    @Test func actionsRefuseBadRequests() async throws {
        let double = try await start()
        defer { Task { await double.stop() } }
        let p = try await provider(double)
        defer { Task { await p.shutdown() } }
        await #expect(throws: ProviderError.self) {
            try await p.perform(ActionRequest(action: "delete", subject: "application/argocd-prod/payments-api-prod"))
        }
        await #expect(throws: ProviderError.self) {
            try await p.perform(ActionRequest(action: "sync", subject: "application/argocd-staging/payments-api-prod"))
        }
        await #expect(throws: ProviderError.self) {
            try await p.perform(ActionRequest(action: "rollback", subject: "application/argocd-prod/payments-api-prod"))
        }
        do {
            _ = try await p.perform(ActionRequest(action: "sync", subject: "application/argocd-prod/no-such-app"))
            Issue.record("synced a missing application")
        } catch let e as ProviderError {
            #expect(e.kind == .notFound && e.message.contains("\"no-such-app\" not found"))
        }
        #expect(await double.requests.filter { $0.method == "POST" }.count == 1)  // only the last reached the server
    }

    @Test func twoInstancesAtOnceKeepTheirEntitiesApart() async throws {
        let staging = try await start(.sample(environment: "staging", apps: 4))
        let prod = try await start(.sample(environment: "prod", apps: 5))
        defer {
            Task {
                await staging.stop()
                await prod.stop()
            }
        }
        let a = try await provider(staging, name: "argocd-staging")
        let b = try await provider(prod, name: "argocd-prod")
        async let oa = a.observe()
        async let ob = b.observe()
        let (sa, sb) = try await (oa, ob)
        #expect(apps(sa).keys.allSatisfy { $0.hasPrefix("application/argocd-staging/") } && apps(sa).count == 4)
        #expect(apps(sb).keys.allSatisfy { $0.hasPrefix("application/argocd-prod/") } && apps(sb).count == 5)
        #expect(apps(sa).values.allSatisfy { $0.environment == "staging" })  // from the cluster label
        await a.shutdown()
        await b.shutdown()
    }
}
