import Foundation

/// The parts of Argo CD's REST API (`/api/v1`, the gRPC-gateway JSON of `v1alpha1` types) meow reads.
/// Every field is optional: Argo CD omits empty fields, and servers of different versions add fields,
/// which decoding ignores. Names follow the API exactly.
enum ArgoCDAPI {
    struct ListMeta: Decodable, Sendable {
        var resourceVersion: String?
        var `continue`: String?
        var remainingItemCount: Int?
    }

    struct ObjectMeta: Decodable, Sendable {
        var name: String?
        var namespace: String?
        var labels: [String: String]?
        var annotations: [String: String]?
        var creationTimestamp: String?
    }

    struct ApplicationList: Decodable, Sendable {
        var metadata: ListMeta?
        var items: [Application]?
    }

    struct Application: Decodable, Sendable {
        var metadata: ObjectMeta?
        var spec: ApplicationSpec?
        var status: ApplicationStatus?
    }

    struct ApplicationSpec: Decodable, Sendable {
        var project: String?
        var source: ApplicationSource?
        var sources: [ApplicationSource]?
        var destination: Destination?
        var syncPolicy: SyncPolicy?
    }

    struct ApplicationSource: Decodable, Sendable {
        var repoURL: String?
        var path: String?
        var targetRevision: String?
        var chart: String?
    }

    struct Destination: Decodable, Sendable {
        var server: String?
        var name: String?
        var namespace: String?
    }

    struct SyncPolicy: Decodable, Sendable {
        struct Automated: Decodable, Sendable {
            var prune: Bool?
            var selfHeal: Bool?
            var enabled: Bool?
        }
        var automated: Automated?
        var syncOptions: [String]?
    }

    struct ApplicationStatus: Decodable, Sendable {
        var resources: [ResourceStatus]?
        var sync: SyncStatus?
        var health: HealthStatus?
        var history: [RevisionHistory]?
        var operationState: OperationState?
        var reconciledAt: String?
        var summary: Summary?
        var sourceType: String?
    }

    struct ResourceStatus: Decodable, Sendable {
        var group: String?
        var version: String?
        var kind: String?
        var namespace: String?
        var name: String?
        var status: String?
        var health: HealthStatus?
    }

    struct SyncStatus: Decodable, Sendable {
        var status: String?
        var revision: String?
        var revisions: [String]?
    }

    struct HealthStatus: Decodable, Sendable {
        var status: String?
        var message: String?
    }

    struct RevisionHistory: Decodable, Sendable {
        var id: Int64?
        var revision: String?
        var revisions: [String]?
        var deployedAt: String?
        var deployStartedAt: String?
        var source: ApplicationSource?
        var initiatedBy: InitiatedBy?
    }

    struct InitiatedBy: Decodable, Sendable {
        var username: String?
        var automated: Bool?
    }

    struct OperationState: Decodable, Sendable {
        struct Operation: Decodable, Sendable {
            struct Sync: Decodable, Sendable {
                var revision: String?
            }
            var sync: Sync?
            var initiatedBy: InitiatedBy?
        }
        struct SyncResult: Decodable, Sendable {
            var revision: String?
        }
        var operation: Operation?
        var phase: String?
        var message: String?
        var syncResult: SyncResult?
        var startedAt: String?
        var finishedAt: String?
    }

    struct Summary: Decodable, Sendable {
        var images: [String]?
        var externalURLs: [String]?
    }

    struct ClusterList: Decodable, Sendable {
        var metadata: ListMeta?
        var items: [Cluster]?
    }

    struct Cluster: Decodable, Sendable {
        struct ConnectionState: Decodable, Sendable {
            var status: String?
            var message: String?
            var attemptedAt: String?
        }
        struct Info: Decodable, Sendable {
            var connectionState: ConnectionState?
            var serverVersion: String?
            var applicationsCount: Int?
        }
        var server: String?
        var name: String?
        var serverVersion: String?
        var connectionState: ConnectionState?
        var info: Info?
        var labels: [String: String]?
        var annotations: [String: String]?
        var project: String?
    }

    /// `GET /api/v1/applications/{name}/revisions/{revision}/metadata`.
    struct RevisionMetadata: Decodable, Sendable {
        var author: String?
        var date: String?
        var tags: [String]?
        var message: String?
    }

    /// The gRPC-gateway error body: `{"error": "...", "code": 16, "message": "..."}`.
    struct ErrorBody: Decodable, Sendable {
        var error: String?
        var code: Int?
        var message: String?
    }

    /// `GET /api/v1/session/userinfo`.
    struct UserInfo: Decodable, Sendable {
        var loggedIn: Bool?
        var username: String?
        var iss: String?
        var groups: [String]?
    }

    /// `GET /api/version`.
    struct Version: Decodable, Sendable {
        var Version: String?
    }
}
