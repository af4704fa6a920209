import Foundation
import MeowTesting
import Testing

/// `meow lua health|discovery|action` on the examples of docs/argocd-lua.md.
@Suite struct LuaCommandTests {
    let d = "docs/examples/argocd"

    func json(_ out: CLI.Output) throws -> Any { try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) }

    @Test func healthOfTheExampleDeploymentFromAScriptADirectoryAndAnArgocdCM() throws {
        let script = try CLI.run([
            "lua", "health", "--script", "\(d)/apps/Deployment/health.lua", "--object", "\(d)/deployment.yaml", "--output",
            "json",
        ])
        #expect(script.status == 0, "\(script.stderr)")
        let h = try #require(try json(script) as? [String: String])
        #expect(
            h == ["status": "Progressing", "message": "Waiting for rollout to finish: 2 of 3 updated replicas are available..."])
        let dir = try CLI.run(["lua", "health", "--customizations", d, "--object", "\(d)/deployment.yaml", "--output", "json"])
        #expect(try json(dir) as? [String: String] == h)
        let cm = try CLI.run([
            "lua", "health", "--customizations", "\(d)/argocd-cm.yaml", "--object", "\(d)/deployment.yaml", "--output", "json",
        ])
        #expect(try json(cm) as? [String: String] == ["status": "Healthy", "message": "from argocd-cm"])
    }

    @Test func theObjectMayBeJSONOrYAML() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("meow-lua-\(UUID().uuidString).json")
        try
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x","generation":1},"spec":{"replicas":2},"status":{"observedGeneration":1,"availableReplicas":2.0}}"#
            .write(to: tmp, atomically: true, encoding: .utf8)
        let out = try CLI.run([
            "lua", "health", "--script", "\(d)/apps/Deployment/health.lua", "--object", tmp.path, "--output", "json",
        ])
        #expect(try json(out) as? [String: String] == ["status": "Healthy", "message": ""])
        let forced = try CLI.run([
            "lua", "health", "--script", "\(d)/apps/Deployment/health.lua", "--object", tmp.path, "--object-format", "yaml",
            "--output", "json",
        ])
        #expect(forced.status == 0, "JSON is YAML too")
    }

    @Test func discoveryAndActions() throws {
        let disc = try CLI.run([
            "lua", "discovery", "--customizations", d, "--object", "\(d)/deployment.yaml", "--output", "json",
        ])
        #expect(disc.status == 0)
        let actions = try #require(try json(disc) as? [[String: Any]])
        #expect(actions.map { $0["name"] as? String } == ["restart", "scale"])
        #expect(actions[0]["displayName"] as? String == "Restart Pods")
        #expect(actions[0]["disabled"] as? Bool == false)
        #expect((actions[1]["params"] as? [[String: String]]) == [["name": "replicas", "default": "3"]])

        let scale = try CLI.run([
            "lua", "action", "--script", "\(d)/apps/Deployment/actions/scale/action.lua", "--object", "\(d)/deployment.yaml",
            "--param", "replicas=5", "--output", "json",
        ])
        #expect(scale.status == 0, "\(scale.stderr)")
        let impacted = try #require(try json(scale) as? [[String: Any]])
        #expect(impacted.count == 1 && impacted[0]["operation"] as? String == "patch")
        let resource = try #require(impacted[0]["resource"] as? [String: Any])
        #expect((resource["spec"] as? [String: Any])?["replicas"] as? Int == 5)
        // The empty maps of the input stay maps.
        #expect((resource["metadata"] as? [String: Any])?["labels"] as? [String: Any] != nil)

        let restart = try CLI.run([
            "lua", "action", "--customizations", d, "--action", "restart", "--object", "\(d)/deployment.yaml", "--output", "json",
        ])
        #expect(restart.stdout.contains("kubectl.kubernetes.io/restartedAt"))
    }

    @Test func scriptErrorsExit1WithTheTextAsRaised() throws {
        let bad = try CLI.run([
            "lua", "action", "--script", "\(d)/apps/Deployment/actions/scale/action.lua", "--object", "\(d)/deployment.yaml",
            "--output", "json",
        ])
        #expect(bad.status == 1)
        #expect(try json(bad) as? [String: String] == ["error": "replicas parameter is required"])
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("meow-loop-\(UUID().uuidString).lua")
        try "while true do end".write(to: tmp, atomically: true, encoding: .utf8)
        let loop = try CLI.run(["lua", "health", "--script", tmp.path, "--object", "\(d)/deployment.yaml", "--output", "json"])
        #expect(loop.status == 1)
        #expect((try json(loop) as? [String: String])?["error"]?.contains("stopped") == true)
    }

    @Test func usageAndUnreadableInputExit2() throws {
        let noScript = try CLI.run(["lua", "health", "--object", "\(d)/deployment.yaml"])
        #expect(noScript.status == 2)
        #expect(noScript.stderr.contains("--script FILE or --customizations"))
        let noObject = try CLI.run([
            "lua", "health", "--script", "\(d)/apps/Deployment/health.lua", "--object", "/nonexistent.yaml",
        ])
        #expect(noObject.status == 2)
        #expect(noObject.stderr.contains("/nonexistent.yaml"))
        let notAnObject = FileManager.default.temporaryDirectory.appendingPathComponent("meow-list-\(UUID().uuidString).json")
        try "[1, 2]".write(to: notAnObject, atomically: true, encoding: .utf8)
        let list = try CLI.run(["lua", "health", "--script", "\(d)/apps/Deployment/health.lua", "--object", notAnObject.path])
        #expect(list.status == 2)
        #expect(list.stderr.contains("expected an object"))
    }
}
