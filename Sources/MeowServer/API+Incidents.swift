import Foundation
import MeowModel
import MeowStore

extension API {
    /// Incidents meow opened (docs/incidents.md), newest first, paged by cursor (the last id of a page).
    func incidents(_ r: APIRequest) async throws -> APIResponse {
        let store = try requireStore()
        let states = try Self.oneOf(r, "state", IncidentRecord.State.allCases.map(\.rawValue))
            .map { Set($0.compactMap(IncidentRecord.State.init)) }
        let limit = try Self.int(r, "limit", default: 100, range: 1...config.server.maxPage)
        let before = try r.query("cursor").map { text -> Int64 in
            guard let id = Int64(text) else {
                throw Problem.badRequest("query parameter cursor: expected an incident id", field: "cursor")
            }
            return id
        }
        let list = try await store.incidents(states: states, resolvedSince: nil, before: before, limit: limit + 1)
        let total = try await store.countIncidents(states: states)
        let page = Array(list.prefix(limit))
        return .json([
            "items": .array(page.map(\.summary)), "total": .int(Int64(total)),
            "next_cursor": list.count > limit ? .string(String(page.last!.id)) : .null,
        ])
    }

    /// One incident: what was sent (`notice`) and each delivery's state.
    func incident(_ r: APIRequest) async throws -> APIResponse {
        let store = try requireStore()
        let text = r.parameters["id"] ?? ""
        guard let id = Int64(text.hasPrefix("INC-") ? String(text.dropFirst(4)) : text), id > 0 else {
            throw Problem.badRequest("expected an incident number (3 or INC-3) in the path, got \"\(text)\"", field: "id")
        }
        guard let record = try await store.incident(id) else { throw Problem.notFound("no incident INC-\(id)") }
        return .json(record.detail(deliveries: try await store.deliveries(ofIncident: id)))
    }
}
