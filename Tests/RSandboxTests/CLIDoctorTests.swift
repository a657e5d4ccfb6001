import Foundation
import Testing

/// `rsandbox doctor` on this host, as root and as the test user.
@Suite struct CLIDoctorTests {
    @Test(arguments: Runner.allCases)
    func doctorProvesSandboxesWork(_ runner: Runner) throws {
        let r = try rsandbox(["doctor"], as: runner)
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.lines.contains { $0.hasPrefix("✓ sandbox: created user, pid, mount, net, ipc, uts and cgroup namespaces") })
        #expect(r.lines.contains { $0.hasPrefix("✓ kernel: ") })
        #expect(r.lines.contains { $0.hasPrefix("✓ hardening: every capability dropped (--cap-add acts only inside the sandbox's user namespace), no_new_privs, seccomp deny-list of ") })
        // This host's cgroup2 hierarchy has no memory/cpu/pids controllers: the line says so and how to fix it.
        let cgroup = try #require(r.lines.firstIndex { $0.hasPrefix("✗ cgroup delegation: ") })
        #expect(r.lines[cgroup].contains("missing memory cpu pids"))
        #expect(r.lines[cgroup + 1].hasPrefix("    fix: "))
    }

    @Test func doctorShowsTheTestUsersRanges() throws {
        let r = try rsandbox(["doctor"], as: .testUser)
        #expect(r.lines.contains("✓ subuid: \(TestUser.current.name): 2000000-2065535 (65536)"))
        #expect(r.lines.contains("✓ subgid: \(TestUser.current.name): 2000000-2065535 (65536)"))
    }

    @Test func doctorJsonIsAnArrayOfChecks() throws {
        let r = try rsandbox(["doctor", "--json"], as: .testUser)
        #expect(r.code == 0)
        let checks = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let sandbox = try #require(checks.first { $0["name"] as? String == "sandbox" })
        #expect(sandbox["ok"] as? Bool == true)
        #expect(sandbox["required"] as? Bool == true)
        #expect(checks.allSatisfy { $0["detail"] is String && ($0["fix"] is String || $0["fix"] is NSNull) })
    }
}
