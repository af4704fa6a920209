import MeowModel

/// Checks an action's parameters against its schema (types, required, ranges, unknown keys).
public enum ActionParams {
    public static func validate(_ params: [String: Value], against schema: ConfigSchema, action: String) throws -> [String: Value]
    {
        var out = params
        for key in params.keys where schema.property(key) == nil {
            throw ProviderError(
                .invalid,
                "\(action): unknown parameter \"\(key)\" (parameters: \(schema.properties.map(\.name).joined(separator: ", ")))")
        }
        for r in schema.required where params[r] == nil {
            throw ProviderError(.invalid, "\(action): parameter \"\(r)\" is required")
        }
        for p in schema.properties {
            guard let v = params[p.name] else {
                if let d = p.schema.defaultValue { out[p.name] = d }
                continue
            }
            let ok: Bool
            switch p.schema.kind {
            case .string:
                ok = v.stringValue != nil && (p.schema.enumValues.isEmpty || p.schema.enumValues.contains(v.stringValue!))
            case .integer: ok = v.intValue != nil
            case .number, .duration: ok = v.doubleValue != nil
            case .boolean: ok = v.boolValue != nil
            case .object, .map: ok = v.objectValue != nil
            case .array: ok = v.arrayValue != nil
            case .any: ok = true
            }
            guard ok else {
                throw ProviderError(
                    .invalid, "\(action): parameter \"\(p.name)\" must be a \(p.schema.kind.rawValue), got \(v.typeName)")
            }
            if let d = v.doubleValue, p.schema.kind == .integer || p.schema.kind == .number {
                if let min = p.schema.minimum, d < min {
                    throw ProviderError(.invalid, "\(action): \(p.name) must be at least \(min)")
                }
                if let max = p.schema.maximum, d > max {
                    throw ProviderError(.invalid, "\(action): \(p.name) must be at most \(max)")
                }
            }
        }
        return out
    }
}
