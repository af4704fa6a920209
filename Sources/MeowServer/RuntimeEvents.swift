import Foundation
import MeowModel
import MeowRuntime
import MeowStore

extension EventHub {
    /// Publishes what the runtime reports as `/v1/events`: decision changes, action steps, provider state
    /// changes (not every poll), rule reloads, warnings.
    public func publish(_ event: RuntimeEvent) {
        switch event {
        case .polled(let s):
            // a provider's state matters when it changes; every poll would be noise
            guard providerStateChanged(s.name, to: s.state) else { return }
            publish(
                "state",
                [
                    "provider": .string(s.name), "state": .string(s.state), "entities": .int(Int64(s.entities)),
                    "error": s.lastError.map { .string($0) } ?? .null,
                ])
        case .evaluated(let revision, _, let changes):
            for c in changes {
                guard case .object(var o) = (try? ValueEncoder(dateStrategy: .iso8601).encode(c.decision)) ?? .null else {
                    continue
                }
                o["change"] = .string(c.change)
                o["revision"] = .int(Int64(revision))
                publish("decision", .object(o))
            }
        case .rulesReloaded(let generation, let rules, let problems):
            publish(
                "rules",
                [
                    "generation": .int(Int64(generation)), "rules": .int(Int64(rules)),
                    "problems": .array(problems.map(API.problemValue)),
                ])
        case .action(let a):
            publishAction(id: a.id, state: a.state, action: a.action, subject: a.subject, rule: a.rule, message: a.message)
        case .warning(let w):
            publish("warning", ["message": .string(w)])
        }
    }

    /// An `action` event: from the pipeline, or from an approval or request made through the API.
    func publishAction(id: Int64, state: ActionState, action: String, subject: String, rule: String, message: String) {
        publish(
            "action",
            [
                "id": .int(id), "state": .string(state.rawValue), "action": .string(action), "subject": .string(subject),
                "rule": .string(rule), "message": .string(message),
            ])
    }
}
