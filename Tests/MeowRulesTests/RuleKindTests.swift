import Foundation
import MeowModel
import MeowRules
import MeowTesting
import Testing

@Suite struct RuleKindTests {
    func cpu(_ name: String, _ values: [Double]) -> [Entity] {
        [
            .workload(
                Workload(
                    id: "workload/c/\(name)", name: name, workloadKind: "Deployment", replicas: Replicas(desired: 2),
                    containers: [Container(name: "main", requests: ResourceAmounts(cpu: 1))])),
            .series(
                Series(
                    id: "series/cpu/\(name)", metric: "cpu", subject: "workload/c/\(name)",
                    start: Date(timeIntervalSince1970: 1_767_225_600), stepSeconds: 60, values: values)),
        ]
    }

    @Test func anomalyDecisionsCarryValueExpectedRangeAndWindow() throws {
        let dir = try TempRules([
            "a.lua": """
            anomaly { id = "spike", severity = "warning", match = { kind = "workload" },
              series = function(w) return w.series.cpu end,
              detector = detect.robust_z { window = 30, threshold = 4, direction = "up" }, sustained = 2 }
            """
        ])
        let flat = [1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 1.1]
        let result = try dir.engine().evaluate(
            .of(cpu("hot", flat + [5, 5.5]) + cpu("blip", flat + [5, 1]) + cpu("calm", flat)), at: time)
        #expect(result.decisions.count == 1)
        let d = try #require(result.decisions.first)
        #expect(d.type == .anomaly)
        #expect(d.subject == "workload/c/hot")
        #expect(d.evidence["value"] == .double(5.5))
        #expect(d.evidence["window"] == .int(10))
        #expect(d.evidence["sustained"] == .int(2))
        #expect(d.evidence["detector"] == "robust_z")
        #expect(d.evidence["metric"] == "cpu")
        #expect(d.evidence["at"] == "2026-01-01T00:09:00Z")
        let expected = try #require(d.evidence["expected"])
        #expect((expected["high"]?.doubleValue ?? 99) < 5)
    }

    @Test func remediationsProposeWithParamsAndMode() throws {
        let dir = try TempRules([
            "r.lua": """
            remediation { id = "scale", description = "Scale out", match = { kind = "workload" },
              when = function(w) local v = w.series.cpu.values return v[#v] > 0.9 and "hot" end,
              action = "kubernetes.scale", params = function(w) return { replicas = w.replicas.desired + 1 } end,
              mode = "approve", cooldown = "30m", limit = { per_hour = 3 } }
            """
        ])
        let result = try dir.engine().evaluate(.of(cpu("hot", [0.5, 0.95]) + cpu("cool", [0.5, 0.4])), at: time)
        #expect(result.decisions.count == 1)
        let d = try #require(result.decisions.first)
        #expect(d.type == .actionProposed)
        #expect(d.message == "Scale out: propose kubernetes.scale (hot)")
        #expect(
            d.evidence == [
                "action": "kubernetes.scale", "mode": "approve", "params": ["replicas": 3], "reason": "hot",
                "cooldown_seconds": .double(1800), "per_hour": 3,
            ])
        #expect(result.stats.proposals == 1)
    }

    @Test func badAnomalyAndRemediationDeclarationsAreNamed() throws {
        let dir = try TempRules([
            "bad.lua": """
            anomaly { id = "a1", severity = "low", match = { kind = "workload" }, series = function(w) end }
            anomaly { id = "a2", severity = "low", match = { kind = "workload" }, series = function(w) end, detector = { detector = "zscore" } }
            anomaly { id = "a3", severity = "low", match = { kind = "workload" }, series = function(w) end, detector = detect.robust_z { windw = 3 } }
            anomaly { id = "a4", severity = "low", match = { kind = "workload" }, series = function(w) end, detector = detect.threshold {}, sustained = 0 }
            remediation { id = "r1", match = { kind = "workload" }, when = function() end }
            remediation { id = "r2", match = { kind = "workload" }, when = function() end, action = "scale" }
            remediation { id = "r3", match = { kind = "workload" }, when = function() end, action = "k.scale", mode = "yolo" }
            remediation { id = "r4", match = { kind = "workload" }, when = function() end, action = "k.scale", cooldown = "soon" }
            """,
            "typo.lua":
                "\nanomaly { id = 'z', severity = 'low', match = { kind = 'workload' }, series = function(w) end, detector = detect.zscore {} }",
        ])
        let messages = try dir.engine().loadErrors.map(\.description)
        for e in [
            "bad.lua:1: anomaly 'a1': missing required field 'detector'",
            "bad.lua:2: anomaly 'a2': unknown detector 'zscore'",
            "typo.lua:2: unknown detector 'detect.zscore' (detect.robust_z",
            "bad.lua:3: anomaly 'a3': detect.robust_z: unknown option 'windw'",
            "bad.lua:4: anomaly 'a4': detect.threshold needs 'above' or 'below'",
            "bad.lua:5: remediation 'r1': missing required field 'action'",
            "bad.lua:6: remediation 'r2': action \"scale\" must be \"plugin.action\"",
            "bad.lua:7: remediation 'r3': mode must be one of dry-run, approve, auto",
            "bad.lua:8: remediation 'r4': cooldown must be a duration",
        ] {
            #expect(messages.contains { $0.hasSuffix(e) || $0.contains(e) }, "missing \(e) in \(messages)")
        }
    }
}
