import ArgumentParser
import Foundation
import MeowActions
import MeowModel
import MeowPlugins
import MeowStore

struct IncidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "The incidents meow opened, and what each output was sent (docs/incidents.md).",
        discussion: """
            These commands read the store (store.path in meow.yaml, or --store) while `meow run` may be running.

              meow incidents list                     # newest first: state, severity, title, outputs
              meow incidents list --state open
              meow incidents show 3                   # the context on-call received, and each delivery's action

            Each delivery is an action (`meow actions show ID` tells its whole story). Exit codes: 0 done,
            1 no such incident, 2 bad input.
            """,
        subcommands: [IncidentsList.self, IncidentsShow.self]
    )
}

struct IncidentsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Incidents, newest first.")
    @OptionGroup var where_: StoreOptions
    @Option(name: .long, help: "Only open or resolved incidents.") var state: String?
    @Option(name: .long, help: "At most this many.") var limit = 50

    func run() async throws {
        var states: Set<IncidentRecord.State>?
        if let state {
            guard let s = IncidentRecord.State(rawValue: state) else { throw InputError("--state \(state): open or resolved") }
            states = [s]
        }
        let list = try await where_.open().incidents(states: states, resolvedSince: nil, before: nil, limit: limit)
        if where_.output == .json {
            print(Value.array(list.map(\.summary)).jsonString(pretty: true))
            return
        }
        if list.isEmpty {
            print("no incidents\(state.map { " \($0)" } ?? "")")
            return
        }
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count + 1), withPad: " ", startingAt: 0) }
        print(pad("ID", 8) + pad("STATE", 10) + pad("SEVERITY", 10) + pad("OPENED", 22) + pad("OUTPUTS", 24) + "TITLE")
        for r in list {
            let state = r.state == .open ? Console.red(pad("open", 10)) : Console.green(pad("resolved", 10))
            print(
                pad("INC-\(r.id)", 8) + state + pad(r.severity, 10) + pad(Timestamp.format(r.openedAt), 22)
                    + pad(r.outputs.joined(separator: ","), 24) + r.title)
        }
    }
}

struct IncidentsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "One incident: the context sent, and each delivery (an action of the pipeline).")
    @OptionGroup var where_: StoreOptions
    @Argument(help: "The incident: 3 or INC-3.") var id: String

    func run() async throws {
        guard let n = Int64(id.hasPrefix("INC-") ? String(id.dropFirst(4)) : id) else {
            throw InputError("\(id): an incident number (3 or INC-3)")
        }
        let store = try where_.open()
        guard let r = try await store.incident(n) else {
            FileHandle.standardError.write(Data("no incident INC-\(n) in \(store.path)\n".utf8))
            throw ExitCode(1)
        }
        let deliveries = try await store.deliveries(ofIncident: n)
        if where_.output == .json {
            print(r.detail(deliveries: deliveries).jsonString(pretty: true))
            return
        }
        print(
            Console.bold("INC-\(r.id)") + "  \(r.state == .open ? Console.red("open") : Console.green("resolved"))  \(r.title)")
        print("  key         \(r.key)")
        print("  route       \(r.route) → \(r.outputs.joined(separator: ", "))")
        print("  opened      \(Timestamp.format(r.openedAt))   last seen \(Timestamp.format(r.lastSeenAt))")
        if let at = r.resolvedAt { print("  resolved    \(Timestamp.format(at))") }
        if let notice = try? ValueDecoder().decode(IncidentNotice.self, from: r.notice) {
            print(Console.bold("What on-call received"))
            for line in notice.text.split(separator: "\n", omittingEmptySubsequences: false) { print("  \(line)") }
        }
        print(Console.bold("Deliveries") + Console.dim("  (meow actions show ID for each one's ledger)"))
        if deliveries.isEmpty { print("  none yet") }
        for a in deliveries {
            print(
                "  #\(a.id) \(a.action.padding(toLength: 17, withPad: " ", startingAt: 0)) \((a.provider ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0)) \(ActionsRender.state(a.state))\(a.stateReason.map { " — \($0)" } ?? "")"
            )
        }
    }
}
