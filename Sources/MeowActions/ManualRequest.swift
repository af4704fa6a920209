import Foundation
import MeowModel
import MeowStore

/// A person's request for an action (`meow actions request`, `POST /v1/actions`): a proposal with rule
/// `manual` that always needs someone else's approval. Its key includes the requester and the time, so
/// two requests are two actions.
public enum ManualRequest {
    public static func draft(
        action: String, subject: String, params: [String: Value], requester: String, reason: String, at now: Date
    )
        -> (NewAction, LedgerDraft)
    {
        let key = "manual|\(subject)|\(action)|\(Value.object(params).jsonString())|\(requester)|\(now.timeIntervalSince1970)"
        return (
            NewAction(
                key: key, rule: "manual", subject: subject, action: action, params: params, environment: nil, provider: nil,
                requester: requester, reason: reason, evidence: .object(["requested_by": .string(requester)]), mode: "approve"),
            LedgerDraft("proposed", actor: requester, "\(requester) requests \(action) on \(subject): \(reason)")
        )
    }

    /// `plugin.action`, lower case.
    public static func isActionName(_ s: String) -> Bool {
        s.range(of: #"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"#, options: .regularExpression) != nil
    }
}
