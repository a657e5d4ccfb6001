import CRSandbox
import Foundation
import Testing

/// rs_spawn_bound (pasta's start): a child bound to the process's life, started from any thread.
/// Its death with a SIGKILLed process is CLINetworkTests.aKilledSupervisorLeavesNoPasta.
@Suite struct BoundSpawnTests {
    struct Started: Sendable {
        var result: Int32
        var pid: Int32
        var pidfd: Int32
    }

    /// Spawns `argv` from a thread of its own that exits right after.
    func spawnFromAThreadThatEnds(_ argv: [String]) async -> Started {
        await withCheckedContinuation { c in
            let t = Thread {
                var cArgs = argv.map { strdup($0) }
                cArgs.append(nil)
                defer { for p in cArgs { free(p) } }
                var pid: Int32 = 0, pidfd: Int32 = -1
                let r = rs_spawn_bound(argv[0], &cArgs, 2, &pid, &pidfd)
                c.resume(returning: Started(result: r, pid: pid, pidfd: pidfd))
            }
            t.start()
        }
    }

    static func status(_ pid: Int32, _ field: String) -> String? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").first { $0.hasPrefix(field + ":") }
            .map { $0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    /// PR_SET_PDEATHSIG follows the thread that forked: a pool thread that ends must not take the
    /// child with it, so off the main thread the fork happens on the long-lived keeper.
    @Test func aChildStartedOffTheMainThreadOutlivesThatThread() async throws {
        let s = await spawnFromAThreadThatEnds(["/bin/sleep", "30"])
        try #require(s.result == 0, "rs_spawn_bound: \(s.result)")
        defer {
            _ = rs_pidfd_send_signal(s.pidfd, SIGKILL)
            var st: Int32 = 0
            _ = rs_pidfd_wait(s.pidfd, WEXITED, &st)
            close(s.pidfd)
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(Self.status(s.pid, "State")?.hasPrefix("S") == true, "still sleeping: \(Self.status(s.pid, "State") ?? "gone")")
        // Its own session; nothing blocked, whatever the spawning thread had blocked.
        #expect(getsid(s.pid) == s.pid)
        #expect(Self.status(s.pid, "SigBlk") == "0000000000000000")
        #expect(Self.status(s.pid, "SigIgn") == "0000000000000000")
    }

    @Test func anExecFailureIsItsErrno() async {
        let s = await spawnFromAThreadThatEnds(["/nonexistent/pasta"])
        #expect(s.result == -ENOENT)
    }
}
