import Foundation
import Testing

/// The Netns API (through `netns-tool`), run as the unprivileged test user inside a sandbox with
/// its own user and network namespaces: root there may create links, and the host's links are
/// never touched. iproute2 inside the same sandbox checks what the kernel really holds.
@Suite struct NetnsTests {
    /// Runs `script` (sh, with $T the tool) as the test user, root in a new user+net namespace
    /// keeping CAP_NET_ADMIN and CAP_SYS_ADMIN (every capability is dropped by default, root's
    /// too; the move test makes a second network namespace and enters it).
    func inSandbox(_ script: String) throws -> CLIResult {
        try rsandbox(["run", "--unshare-net", "--uid", "0", "--cap-add", "NET_ADMIN,SYS_ADMIN", "--setenv", "T=\(TestEnvironment.netnsTool)", "--",
                      "sh", "-c", script], as: .testUser)
    }

    @Test func bridgeVethMasterUpAddressAndRouteAreWhatIprouteSees() throws {
        let r = try inSandbox("""
            set -e
            $T bridge nbr0; $T veth nv0 nv1; $T master nv0 nbr0; $T up nbr0; $T up nv0
            $T addr-add nbr0 10.77.0.1/24; $T route-add 10.78.0.0/16 10.77.0.1 nbr0
            ip -o link show nv0; ip -o link show nbr0; ip -o addr show dev nbr0; ip route show 10.78.0.0/16
            """)
        #expect(r.code == 0, "\(r.stderr)")
        let out = r.stdout
        guard r.lines.count == 4 else { Issue.record("\(out)"); return }
        #expect(r.lines[0].contains("nv0@nv1:"), "\(out)")
        #expect(r.lines[0].contains("master nbr0"), "\(out)")
        #expect(r.lines[0].contains(",UP"), "\(out)")
        #expect(r.lines[1].contains("nbr0: <") && r.lines[1].contains(",UP"), "\(out)")
        #expect(r.lines[2].contains("inet 10.77.0.1/24"), "\(out)")
        #expect(r.lines[3].hasPrefix("10.78.0.0/16 via 10.77.0.1 dev nbr0"), "\(out)")
        #expect(if_nametoindex("nbr0") == 0 && if_nametoindex("nv0") == 0, "the host has none of these links")
    }

    @Test func listShowsKindMasterAndStateLikeIproute() throws {
        let r = try inSandbox("""
            set -e
            $T bridge lbr; $T veth la lb; $T master la lbr; $T up la
            $T list; echo --; ip -o link | cut -d: -f2 | tr -d ' '
            """)
        #expect(r.code == 0, "\(r.stderr)")
        let parts = r.stdout.components(separatedBy: "--\n")
        try #require(parts.count == 2, "\(r.stdout)\(r.stderr)")
        let listed: [String] = parts[0].split(separator: "\n").map { line in
            line.split(separator: " ").dropFirst().dropLast().joined(separator: " ")
        }
        let ip: [String] = parts[1].split(separator: "\n").map { String($0.split(separator: "@")[0]) }
        let names: [String] = listed.map { String($0.split(separator: " ")[0]) }
        #expect(names == ip, "same links in the same order: \(r.stdout)")
        #expect(listed.contains("lbr bridge down master=-"), "\(r.stdout)")
        #expect(listed.contains("la veth up master=lbr"), "\(r.stdout)")
        #expect(listed.contains("lb veth down master=-"), "\(r.stdout)")
    }

    @Test func renameDownAddressAndRouteRemovalTakeEffect() throws {
        let r = try inSandbox("""
            set -e
            $T veth ra rb; $T rename rb renamed; $T up ra; $T addr-add ra 10.79.0.1/24; $T route-add 10.80.0.0/16 - ra
            $T route-del 10.80.0.0/16 - ra; $T addr-del ra 10.79.0.1/24; $T down ra
            ip -o link show renamed | cut -d: -f2; ip -o addr show dev ra | grep -c inet || true
            ip route | grep -c 10.80 || true; ip -o link show ra | grep -c ',UP' || true
            """)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines == [" renamed@ra", "0", "0", "0"], "\(r.stdout)")
    }

    @Test func vethPeerIsBornInTheNamespaceGivenByFDAndLinksMoveByFD() throws {
        let r = try inSandbox("""
            set -e
            unshare --net sleep 30 & pid=$!; sleep 0.2
            $T veth host0 eth0 /proc/$pid/ns/net
            $T veth mv0 mv1; $T move mv1 /proc/$pid/ns/net
            ip -o link | cut -d: -f2 | tr -d ' '; echo --
            nsenter --net=/proc/$pid/ns/net ip -o link | cut -d: -f2 | tr -d ' '
            kill $pid
            """)
        #expect(r.code == 0, "\(r.stderr)")
        let parts = r.stdout.components(separatedBy: "--\n")
        try #require(parts.count == 2, "\(r.stdout)\(r.stderr)")
        let here = parts[0].split(separator: "\n").map { String($0.split(separator: "@")[0]) }
        let there = parts[1].split(separator: "\n").map { String($0.split(separator: "@")[0]) }
        #expect(here.contains("host0") && here.contains("mv0"), "\(r.stdout)")
        #expect(!here.contains("eth0") && !here.contains("mv1"), "\(r.stdout)")
        #expect(there == ["lo", "eth0", "mv1"], "\(r.stdout)")
    }

    @Test func errorsNameTheOperationTheObjectAndTheKernelsErrno() throws {
        let r = try inSandbox("""
            $T bridge ebr; $T bridge ebr; $T master nosuch ebr; $T addr-add ebr 10.81.0.1/24; $T addr-add ebr 10.81.0.1/24
            $T veth 'bad/name' x; $T veth ev0 eth0 /proc/self/ns/user; $T route-add 10.82.0.0/16 10.99.0.1 ebr
            """)
        let errs = r.stderr.split(separator: "\n").map(String.init)
        #expect(errs == [
            "netns-tool: create bridge ebr: File exists",
            "netns-tool: set master nosuch: No such device",
            "netns-tool: add address 10.81.0.1/24 on ebr: File exists",
            "netns-tool: create veth \"bad/name\": Invalid argument",
            "netns-tool: create veth ev0/eth0: Invalid argument",
            "netns-tool: add route 10.82.0.0/16 via 10.99.0.1 dev ebr: Network is unreachable",
        ], "\(r.stderr)")
    }

    @Test func linkEventsReportCreationChangeAndDeletion() throws {
        let r = try inSandbox("""
            ev=$(mktemp); $T watch 4 > $ev & w=$!
            while ! grep -q watching $ev; do sleep 0.05; done
            $T bridge wbr; $T up wbr; $T delete wbr
            wait $w; echo rc=$?; tail -n +2 $ev; rm -f $ev
            """)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.lines.first == "rc=0", "\(r.stdout)\(r.stderr)")
        let events: [[String]] = r.lines.dropFirst().map { $0.split(separator: " ").map(String.init) }
        // Deleting an up link first reports it down, then gone.
        #expect(events.count == 4, "\(r.stdout)")
        guard events.count == 4 else { return }
        let index = events[0][1]
        #expect(events[0] == ["new", index, "wbr", "down"], "\(r.stdout)")
        #expect(events[1] == ["new", index, "wbr", "up"], "\(r.stdout)")
        #expect(events[2] == ["new", index, "wbr", "down"], "\(r.stdout)")
        #expect(events[3] == ["del", index, "wbr", "down"], "\(r.stdout)")
    }
}

extension TestEnvironment {
    /// `netns-tool`, built beside `rsandbox`, copied next to the shared copy of the CLI.
    static let netnsTool: String = {
        let dir = (binary as NSString).deletingLastPathComponent
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var search = exe.deletingLastPathComponent()
        while search.path != "/" && !FileManager.default.fileExists(atPath: search.appendingPathComponent("netns-tool").path) {
            search = search.deletingLastPathComponent()
        }
        let source = search.appendingPathComponent("netns-tool").path
        precondition(FileManager.default.isExecutableFile(atPath: source), "netns-tool not built (swift build)")
        let rc = system("install -m 755 \(source) \(dir)/netns-tool")
        precondition(rc == 0, "cannot copy netns-tool to \(dir)")
        return dir + "/netns-tool"
    }()
}
