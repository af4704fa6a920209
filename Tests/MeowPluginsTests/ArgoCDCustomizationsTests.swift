import Foundation
import MeowModel
import MeowTesting
import Testing

@testable import MeowPlugins

/// Finding customizations as Argo CD does: argocd-cm overrides (exact, then wildcard), then the
/// resource_customizations directory (exact, then `_` wildcards).
@Suite struct ArgoCDCustomizationsTests {
    let examples = PackageRoot.url().appendingPathComponent("docs/examples/argocd")

    @Test func keysAreKindForTheCoreGroupAndGroupSlashKindOtherwise() {
        #expect(ArgoCDCustomizations.key(apiVersion: "apps/v1", kind: "Deployment") == "apps/Deployment")
        #expect(ArgoCDCustomizations.key(apiVersion: "v1", kind: "ServiceAccount") == "ServiceAccount")
        #expect(ArgoCDCustomizations.key(of: ["apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"]) == "argoproj.io/Rollout")
    }

    @Test func aDirectoryInArgoCDsLayout() throws {
        let c = try ArgoCDCustomizations.load(path: examples.path)
        #expect(c.healthScript(for: "apps/Deployment")?.source == "apps/Deployment/health.lua")
        #expect(c.healthScript(for: "apps/StatefulSet") == nil)
        #expect(c.discoveryScripts(for: "apps/Deployment").map(\.source) == ["apps/Deployment/actions/discovery.lua"])
        #expect(c.actionScript(for: "apps/Deployment", action: "scale")?.source == "apps/Deployment/actions/scale/action.lua")
        #expect(c.actionScript(for: "apps/Deployment", action: "nope") == nil)
    }

    @Test func wildcardDirectoriesMatchWithinOnePathPart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meow-custom-\(UUID().uuidString)")
        let wildcard = dir.appendingPathComponent("_.crossplane.io/_")
        try FileManager.default.createDirectory(at: wildcard, withIntermediateDirectories: true)
        try "return {status = 'Healthy'}".write(
            to: wildcard.appendingPathComponent("health.lua"), atomically: true, encoding: .utf8)
        let c = try ArgoCDCustomizations.load(path: dir.path)
        #expect(c.healthScript(for: "ec2.aws.crossplane.io/Instance")?.source == "_.crossplane.io/_/health.lua")
        #expect(c.healthScript(for: "crossplane.io/Instance") == nil)
    }

    @Test func argocdCMOverridesComeFirstAndWildcardsCrossSlashes() throws {
        let c = try ArgoCDCustomizations.load(path: examples.appendingPathComponent("argocd-cm.yaml").path)
        #expect(c.healthScript(for: "apps/Deployment")?.source == "argocd-cm apps/Deployment")
        #expect(c.healthScript(for: "ec2.aws.crossplane.io/Instance")?.source == "argocd-cm *.crossplane.io/*")
        #expect(c.healthScript(for: "apps/StatefulSet") == nil)
        #expect(ArgoCDCustomizations.glob("*.aws*", "ec2.aws.crossplane.io/Instance", crossSlash: true))
        #expect(ArgoCDCustomizations.glob("argoproj.io/*", "argoproj.io/Rollout", crossSlash: true))
        #expect(!ArgoCDCustomizations.glob("argoproj.io/*", "apps/Deployment", crossSlash: true))
    }

    @Test func actionsFromArgocdCMAndMergingBuiltins() throws {
        let yaml = """
            data:
              resource.customizations.actions.apps_Deployment: |
                mergeBuiltinActions: true
                discovery.lua: |
                  return {pause = {}}
                definitions:
                  - name: pause
                    action.lua: |
                      obj.spec.paused = true
                      return obj
              resource.customizations.health.all: |
                return {status = "Healthy"}
            """
        var c = try ArgoCDCustomizations.configMap(ConfigNode.parse(yaml, file: "cm.yaml"), file: "cm.yaml")
        c.directory = examples
        #expect(
            c.discoveryScripts(for: "apps/Deployment").map(\.source) == [
                "argocd-cm apps/Deployment", "apps/Deployment/actions/discovery.lua",
            ])
        #expect(c.actionScript(for: "apps/Deployment", action: "pause")?.source == "argocd-cm apps/Deployment")
        #expect(c.actionScript(for: "apps/Deployment", action: "scale")?.source == "apps/Deployment/actions/scale/action.lua")
        #expect(c.healthScript(for: "apps/StatefulSet")?.source == "argocd-cm */*")
        // As in Argo CD, `*/*` needs a group: core kinds (key `Service`) do not match it.
        #expect(c.healthScript(for: "Service") == nil)
        #expect(throws: ConfigError.self) {
            _ = try ArgoCDCustomizations.configMap(
                ConfigNode.parse("data:\n  resource.customizations.health.a_b_c: x\n", file: "cm.yaml"), file: "cm.yaml")
        }
    }
}
