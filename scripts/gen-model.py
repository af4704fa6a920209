#!/usr/bin/env python3
"""Generates the entity structs of MeowModel and docs/schema/snapshot.schema.json from one spec.

Why: the Swift model and the published JSON Schema must never drift. Edit SPEC below, run
`python3 scripts/gen-model.py`, commit both outputs. A test (MeowModelTests) checks the schema
against generated fleets.
"""
import json, os, re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# type notation: str int num bool time value [T] {T} (map of string to T) and nested struct names
NESTED = {
    "SyncPolicy": ("Argo CD automated sync settings", [
        ("automated", "bool", "automated sync is on"),
        ("prune", "bool", "automated sync prunes resources"),
        ("self_heal", "bool", "automated sync reverts drift"),
    ]),
    "OperationState": ("the last or running sync operation", [
        ("phase", "str", "Running, Succeeded, Failed, Error, Terminating"),
        ("message", "str", "operation message"),
        ("revision", "str", "revision being synced"),
        ("started_at", "time", "start"),
        ("finished_at", "time", "end"),
    ]),
    "DeploymentRecord": ("one entry of an application's deployment history", [
        ("id", "int", "Argo CD history id"),
        ("revision", "str", "Git revision deployed"),
        ("deployed_at", "time", "when"),
        ("outcome", "str", "succeeded, failed or rolled_back"),
    ]),
    "ResourceSummary": ("counts of an application's managed resources", [
        ("total", "int", "managed resources"),
        ("out_of_sync", "int", "resources out of sync"),
        ("degraded", "int", "resources not healthy"),
        ("kinds", "{int}", "count per Kubernetes kind"),
    ]),
    "Replicas": ("replica counts of a workload", [
        ("desired", "int", "spec.replicas"),
        ("ready", "int", "ready replicas"),
        ("available", "int", "available replicas"),
    ]),
    "ResourceAmounts": ("cpu in cores, memory in bytes", [
        ("cpu", "num", "cores"),
        ("memory", "num", "bytes"),
    ]),
    "Container": ("a container of a workload's pod template", [
        ("name", "str", "container name"),
        ("image", "str", "image reference"),
        ("requests", "ResourceAmounts", "resource requests; absent when none are set"),
        ("limits", "ResourceAmounts", "resource limits; absent when none are set"),
        ("privileged", "bool", "securityContext.privileged"),
        ("run_as_non_root", "bool", "securityContext.runAsNonRoot"),
    ]),
    "Condition": ("a status condition", [
        ("type", "str", "condition type"),
        ("status", "str", "True, False or Unknown"),
        ("reason", "str", "machine-readable reason"),
        ("message", "str", "human-readable message"),
    ]),
    "Capacity": ("allocatable vs requested resources of a cluster", [
        ("cpu_allocatable", "num", "cores"),
        ("cpu_requested", "num", "cores"),
        ("memory_allocatable", "num", "bytes"),
        ("memory_requested", "num", "bytes"),
        ("pods_allocatable", "int", "pods"),
        ("pods", "int", "pods scheduled"),
    ]),
    "NodeCounts": ("node counts of a cluster", [
        ("total", "int", "nodes"),
        ("ready", "int", "nodes Ready"),
    ]),
    "Sample": ("one point of a series", [
        ("t", "time", "time"),
        ("v", "num", "value"),
    ]),
}

COMMON = [
    ("id", "str!", "stable id: kind/provider-instance/path"),
    ("name", "str", "display name"),
    ("labels", "{str}", "labels (from Kubernetes/Argo CD/Airflow metadata)"),
    ("annotations", "{str}", "annotations"),
    ("observed_at", "time", "when the provider observed it"),
    ("provider", "str", "provider instance that produced it"),
    ("stale", "bool", "the provider could not refresh it; actions on it are refused"),
]

KINDS = {
    "environment": ("EnvironmentEntity", "an environment such as dev, staging or prod", [
        ("clusters", "[str]", "cluster ids in this environment"),
        ("promotion_order", "int", "position in the promotion path (dev=0, staging=1, prod=2)"),
        ("promotes_to", "str", "the next environment's name"),
    ]),
    "cluster": ("Cluster", "a Kubernetes cluster", [
        ("environment", "str", "environment name"),
        ("api_server", "str", "API server URL"),
        ("version", "str", "Kubernetes version"),
        ("capacity", "Capacity", "allocatable vs requested"),
        ("nodes", "NodeCounts", "node counts"),
        ("conditions", "[Condition]", "cluster conditions"),
    ]),
    "application": ("Application", "an Argo CD application", [
        ("instance", "str", "Argo CD instance"),
        ("project", "str", "Argo CD project"),
        ("environment", "str", "environment name"),
        ("cluster", "str", "destination cluster id"),
        ("namespace", "str", "destination namespace"),
        ("repo", "str", "source repository URL"),
        ("path", "str", "path in the repository"),
        ("target_revision", "str", "spec.source.targetRevision"),
        ("synced_revision", "str", "revision last synced"),
        ("sync_status", "str", "Synced, OutOfSync or Unknown"),
        ("health", "str", "Healthy, Progressing, Degraded, Suspended, Missing or Unknown"),
        ("health_message", "str", "health message"),
        ("operation", "OperationState", "last sync operation"),
        ("sync_policy", "SyncPolicy", "automated sync settings; absent when sync is manual"),
        ("history", "[DeploymentRecord]", "deployment history, oldest first"),
        ("resources", "ResourceSummary", "managed resources"),
        ("images", "[str]", "container images the application deploys"),
        ("criticality", "str", "low, medium, high or critical (label meow.io/criticality)"),
        ("owner", "str", "owning team (label meow.io/owner or owner)"),
        ("tier", "str", "service tier (label meow.io/tier)"),
    ]),
    "workload": ("Workload", "a Kubernetes workload (Deployment, StatefulSet, DaemonSet, ...)", [
        ("cluster", "str", "cluster id"),
        ("environment", "str", "environment name"),
        ("namespace", "str", "namespace"),
        ("workload_kind", "str", "Deployment, StatefulSet, DaemonSet, ..."),
        ("application", "str", "owning Argo CD application id"),
        ("replicas", "Replicas", "replica counts"),
        ("restarts", "int", "container restarts over the pods"),
        ("conditions", "[Condition]", "status conditions"),
        ("containers", "[Container]", "containers of the pod template"),
        ("usage", "ResourceAmounts", "current usage (metrics)"),
        ("owner", "str", "owning team"),
    ]),
    "dag": ("DAG", "an Airflow DAG", [
        ("instance", "str", "Airflow instance"),
        ("environment", "str", "environment name"),
        ("dag_id", "str", "DAG id"),
        ("paused", "bool", "is paused"),
        ("schedule", "str", "schedule expression"),
        ("owners", "[str]", "owners"),
        ("tags", "[str]", "tags"),
        ("next_run", "time", "next scheduled logical date"),
        ("import_errors", "[str]", "import errors of the DAG file"),
        ("file", "str", "DAG file (fileloc)"),
        ("recent_run_states", "[str]", "states of the latest runs, oldest first"),
        ("failures_in_a_row", "int", "latest runs that failed, counted back from the newest finished run"),
    ]),
    "dag_run": ("DAGRun", "a run of an Airflow DAG", [
        ("dag", "str", "DAG entity id"),
        ("dag_id", "str", "DAG id"),
        ("run_id", "str", "run id"),
        ("run_type", "str", "scheduled, manual, backfill, asset_triggered"),
        ("logical_date", "time", "logical date"),
        ("state", "str", "queued, running, success or failed"),
        ("start", "time", "start"),
        ("end", "time", "end"),
        ("duration_seconds", "num", "duration"),
    ]),
    "task_instance": ("TaskInstance", "a task instance of a DAG run", [
        ("dag_run", "str", "DAG run entity id"),
        ("dag_id", "str", "DAG id"),
        ("run_id", "str", "run id"),
        ("task_id", "str", "task id"),
        ("state", "str", "task state"),
        ("try_number", "int", "attempt"),
        ("duration_seconds", "num", "duration"),
        ("pool", "str", "pool"),
        ("queued_wait_seconds", "num", "time spent queued"),
    ]),
    "incident": ("Incident", "an incident in an incident tool", [
        ("source", "str", "pagerduty, opsgenie, alertmanager, ..."),
        ("status", "str", "triggered, acknowledged or resolved"),
        ("severity", "str", "severity"),
        ("service", "str", "service"),
        ("title", "str", "title"),
        ("created_at", "time", "created"),
        ("resolved_at", "time", "resolved"),
        ("links", "[str]", "links"),
    ]),
    "series": ("Series", "a metric series attached to an entity; rules see it as entity.series[metric]", [
        ("metric", "str", "metric name: cpu, memory, restarts, dag_duration, queue_wait, s3_latency, db_latency, error_rate, ..."),
        ("subject", "str", "entity id the series describes"),
        ("unit", "str", "unit (cores, bytes, seconds, ratio, count)"),
        ("start", "time", "time of values[1] for a regular series"),
        ("step_seconds", "num", "spacing of a regular series"),
        ("values", "[num]", "the values, oldest first"),
        ("times", "[time]", "the time of each value, for an irregular series (e.g. one value per DAG run)"),
        ("samples", "[Sample]", "points as {t, v}, oldest first (alternative to values)"),
    ]),
    "event": ("Event", "something that happened: deploy, sync, config change, scale, alert", [
        ("time", "time", "when"),
        ("source", "str", "who reported it"),
        ("type", "str", "deploy, sync, config_change, scale, alert, ..."),
        ("subject", "str", "entity id"),
        ("message", "str", "text"),
        ("details", "value", "free-form details"),
    ]),
    "change": ("Change", "the Git change behind a revision", [
        ("revision", "str", "Git revision"),
        ("repo", "str", "repository"),
        ("application", "str", "application id it deploys to"),
        ("author", "str", "author"),
        ("time", "time", "commit time"),
        ("message", "str", "commit message"),
        ("files_changed", "int", "files changed"),
        ("lines_added", "int", "lines added"),
        ("lines_deleted", "int", "lines deleted"),
        ("resource_kinds", "[str]", "Kubernetes kinds touched"),
    ]),
}


def camel(s):
    parts = s.split("_")
    out = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return {"self": "selfHeal"}.get(out, out)


def swift_type(t):
    t = t.rstrip("!")
    if t.startswith("["):
        return "[" + swift_type(t[1:-1]) + "]"
    if t.startswith("{"):
        return "[String: " + swift_type(t[1:-1]) + "]"
    return {"str": "String", "int": "Int", "num": "Double", "bool": "Bool", "time": "Date", "value": "Value"}.get(t, t)


def schema_type(t):
    t = t.rstrip("!")
    if t.startswith("["):
        return {"type": "array", "items": schema_type(t[1:-1])}
    if t.startswith("{"):
        return {"type": "object", "additionalProperties": schema_type(t[1:-1])}
    simple = {
        "str": {"type": "string"},
        "int": {"type": "integer"},
        "num": {"type": "number"},
        "bool": {"type": "boolean"},
        "time": {"type": "string", "format": "date-time"},
        "value": {},  # any JSON value (empty, hence falsy: test membership, not truth)
    }
    return dict(simple[t]) if t in simple else {"$ref": "#/$defs/" + t}


def doc_expr(t, v):
    """Swift expression converting `v` (of spec type t) into a Value, as rules see it."""
    t = t.rstrip("!")
    if t.startswith("["):
        return ".array(%s.map { %s })" % (v, doc_expr(t[1:-1], "$0"))
    if t.startswith("{"):
        return ".object(%s.mapValues { %s })" % (v, doc_expr(t[1:-1], "$0"))
    return {
        "str": ".string(%s)", "int": ".int(Int64(%s))", "num": ".double(%s)", "bool": ".bool(%s)",
        "time": "Value.seconds(%s)", "value": "%s",
    }.get(t, "%s.document") % v


def json_expr(t, v):
    """Swift statement writing `v` (of spec type t) with JSONWriter `w`."""
    t = t.rstrip("!")
    if t.startswith("["):
        return "w.array(%s) { w, x in %s }" % (v, json_expr(t[1:-1], "x"))
    if t.startswith("{"):
        return "w.map(%s) { w, x in %s }" % (v, json_expr(t[1:-1], "x"))
    return {
        "str": "w.string(%s)", "int": "w.int(%s)", "num": "w.double(%s)", "bool": "w.bool(%s)",
        "time": "w.time(%s)", "value": "w.value(%s)",
    }.get(t, "%s.writeJSON(to: &w)") % v


def struct(name, doc, fields, kind=None):
    lines = ["// Generated by scripts/gen-model.py from its SPEC; edit there, not here.", "import Foundation", ""]
    lines.append(f"/// {doc[:1].upper() + doc[1:]}.")
    conforms = "Codable, Sendable, Hashable, DocumentConvertible, JSONWritable" + (", EntityRecord" if kind else "")
    lines.append(f"public struct {name}: {conforms} {{")
    if kind:
        lines.append(f"    public static let kind: EntityKind = .{camel(kind)}")
    for f, t, d in fields:
        opt = "" if t.endswith("!") else "?"
        lines.append(f"    /// {d[:1].upper() + d[1:]}.")
        lines.append(f"    public var {camel(f)}: {swift_type(t)}{opt}")
    lines.append("")
    params = ", ".join(f"{camel(f)}: {swift_type(t)}{'' if t.endswith('!') else '? = nil'}" for f, t, d in fields)
    lines.append(f"    public init({params}) {{")
    for f, t, d in fields:
        lines.append(f"        self.{camel(f)} = {camel(f)}")
    lines.append("    }")
    lines.append("")
    lines.append("    /// The value rules see: JSON field names, times as Unix seconds, unset fields absent.")
    lines.append("    public var document: Value {")
    lines.append("        var o: [String: Value] = [:]")
    lines.append(f"        o.reserveCapacity({len(fields) + 1})")
    if kind:
        lines.append(f'        o["kind"] = .string("{kind}")')
    for f, t, d in fields:
        if t.endswith("!"):
            lines.append(f'        o["{f}"] = {doc_expr(t, camel(f))}')
        else:
            lines.append(f'        if let v = {camel(f)} {{ o["{f}"] = {doc_expr(t, "v")} }}')
    lines.append("        return .object(o)")
    lines.append("    }")
    lines.append("")
    lines.append("    /// Writes the JSON of the snapshot format: sorted keys, unset fields left out.")
    lines.append("    public func writeJSON(to w: inout JSONWriter) {")
    lines.append("        w.byte(UInt8(ascii: \"{\"))")
    lines.append("        var first = true")
    members = sorted(([("kind", None, None)] if kind else []) + [(f, t, d) for f, t, d in fields], key=lambda x: x[0])
    for f, t, d in members:
        if t is None:
            lines.append(f'        w.key("kind", first: &first)')
            lines.append(f'        w.string("{kind}")')
        elif t.endswith("!"):
            lines.append(f'        w.key("{f}", first: &first)')
            lines.append(f"        {json_expr(t, camel(f))}")
        else:
            lines.append(f'        if let v = {camel(f)} {{')
            lines.append(f'            w.key("{f}", first: &first)')
            lines.append(f"            {json_expr(t, 'v')}")
            lines.append("        }")
    lines.append("        w.byte(UInt8(ascii: \"}\"))")
    lines.append("    }")
    lines.append("")
    lines.append("    /// Decodes strictly: a field the model does not have is an error naming it (most likely a typo).")
    lines.append("    public init(from decoder: Decoder) throws {")
    known = (["kind"] if kind else []) + [f for f, _, _ in fields]
    lines.append("        try decoder.rejectUnknownFields([" + ", ".join('"%s"' % k for k in known) + "])")
    lines.append("        let c = try decoder.container(keyedBy: CodingKeys.self)")
    for f, t, d in fields:
        if t.endswith("!"):
            lines.append(f"        {camel(f)} = try c.decode({swift_type(t)}.self, forKey: .{camel(f)})")
        else:
            lines.append(f"        {camel(f)} = try c.decodeIfPresent({swift_type(t)}.self, forKey: .{camel(f)})")
    lines.append("    }")
    lines.append("")
    lines.append("    enum CodingKeys: String, CodingKey {")
    for f, t, d in fields:
        c = camel(f)
        lines.append(f"        case {c}" + (f' = "{f}"' if c != f else ""))
    lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    src = os.path.join(ROOT, "Sources", "MeowModel")
    for name, (doc, fields) in NESTED.items():
        open(os.path.join(src, name + ".swift"), "w").write(struct(name, doc, fields))
    for kind, (name, doc, fields) in KINDS.items():
        open(os.path.join(src, name + ".swift"), "w").write(struct(name, doc, COMMON + fields, kind))
    # EntityKind
    lines = ["// Generated by scripts/gen-model.py from its SPEC; edit there, not here.", "",
             "/// The kinds of entity in the state model (DESIGN.md §4).",
             "public enum EntityKind: String, Codable, Sendable, CaseIterable, Hashable {"]
    for kind in KINDS:
        lines.append(f'    case {camel(kind)} = "{kind}"')
    lines.append("}")
    lines.append("")
    lines.append("extension Entity {")
    lines.append("    static func decode(kind: EntityKind, from decoder: Decoder) throws -> Entity {")
    lines.append("        switch kind {")
    for kind, (name, _, _) in KINDS.items():
        lines.append(f"        case .{camel(kind)}: return .{camel(kind)}(try {name}(from: decoder))")
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    /// Writes the entity as the snapshot format's JSON.")
    lines.append("    public func writeJSON(to w: inout JSONWriter) {")
    lines.append("        switch self {")
    for kind in KINDS:
        lines.append(f"        case .{camel(kind)}(let e): e.writeJSON(to: &w)")
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    /// The entity's record, whatever its kind.")
    lines.append("    public var record: any EntityRecord {")
    lines.append("        switch self {")
    for kind in KINDS:
        lines.append(f"        case .{camel(kind)}(let e): return e")
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    /// The same entity stamped with the provider instance that produced it and its `stale` flag")
    lines.append("    /// (the runtime stamps every entity; a failing provider's entities become stale).")
    lines.append("    public func stamped(provider: String, stale: Bool) -> Entity {")
    lines.append("        switch self {")
    for kind in KINDS:
        lines.append(f"        case .{camel(kind)}(var e):")
        lines.append("            e.provider = provider")
        lines.append("            e.stale = stale ? true : nil")
        lines.append(f"            return .{camel(kind)}(e)")
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    public var kind: EntityKind {")
    lines.append("        switch self {")
    for kind in KINDS:
        lines.append(f"        case .{camel(kind)}: return .{camel(kind)}")
    lines.append("        }")
    lines.append("    }")
    lines.append("}")
    lines.append("")
    lines.append("extension EntityKind {")
    lines.append("    /// The JSON field names entities of this kind can have (for validating rule `match` tables).")
    lines.append("    public var fieldNames: Set<String> {")
    lines.append("        switch self {")
    for kind, (name, _, fields) in KINDS.items():
        names = ", ".join('"%s"' % f for f, _, _ in [("kind", "", "")] + COMMON + fields)
        lines.append(f"        case .{camel(kind)}: return [{names}]")
    lines.append("        }")
    lines.append("    }")
    lines.append("}")
    lines.append("")
    lines.append("extension EntityKind {")
    lines.append("    /// Field names of the nested objects of this kind, by field (`sync_policy` -> automated, prune, ...):")
    lines.append("    /// what a nested rule `match` table may name. Free-form maps (labels) are absent.")
    lines.append("    public var nestedFieldNames: [String: Set<String>] {")
    lines.append("        switch self {")
    for kind, (name, _, fields) in KINDS.items():
        entries = []
        for f, t, _ in COMMON + fields:
            base = t.rstrip("!").strip("[]")
            if base in NESTED:
                entries.append('"%s": [%s]' % (f, ", ".join('"%s"' % n for n, _, _ in NESTED[base][1])))
        lines.append(f"        case .{camel(kind)}: return [{', '.join(entries) if entries else ':'}]")
    lines.append("        }")
    lines.append("    }")
    lines.append("}")
    lines.append("")
    lines.append("/// An entity of any kind.")
    lines.append("public enum Entity: Sendable, Hashable {")
    for kind, (name, _, _) in KINDS.items():
        lines.append(f"    case {camel(kind)}({name})")
    lines.append("}")
    open(os.path.join(src, "EntityKind.swift"), "w").write("\n".join(lines) + "\n")

    # JSON Schema
    defs = {}
    for name, (doc, fields) in NESTED.items():
        defs[name] = {"type": "object", "description": doc, "additionalProperties": False,
                      "properties": {f: dict(schema_type(t), description=d) for f, t, d in fields}}
    entity_refs = []
    for kind, (name, doc, fields) in KINDS.items():
        allf = COMMON + fields
        props = {"kind": {"const": kind}}
        props.update({f: dict(schema_type(t), description=d) for f, t, d in allf})
        defs[name] = {"type": "object", "description": doc, "additionalProperties": False,
                      "required": ["kind", "id"], "properties": props}
        entity_refs.append({"$ref": "#/$defs/" + name})
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://meow.dev/schema/snapshot.schema.json",
        "title": "meow state snapshot",
        "description": "A versioned, immutable set of entities observed by meow's providers. See docs/state-model.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["schema_version", "entities"],
        "properties": {
            "schema_version": {"const": 1, "description": "format version of this document"},
            "revision": {"type": "integer", "minimum": 0, "description": "monotonic snapshot version"},
            "observed_at": {"type": "string", "format": "date-time", "description": "when the snapshot was taken; rules are evaluated at this time unless told otherwise"},
            "entities": {"type": "array", "items": {"oneOf": entity_refs}},
        },
        "$defs": defs,
    }
    os.makedirs(os.path.join(ROOT, "docs", "schema"), exist_ok=True)
    with open(os.path.join(ROOT, "docs", "schema", "snapshot.schema.json"), "w") as fh:
        json.dump(schema, fh, indent=2)
        fh.write("\n")


def format_swift():
    """Formats the generated Swift like the rest of the code (the committed .swift-format), when available."""
    import shutil, subprocess
    if shutil.which("swift"):
        src = os.path.join(ROOT, "Sources", "MeowModel")
        subprocess.run(["swift", "format", "-i", "-r", src], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
    format_swift()
