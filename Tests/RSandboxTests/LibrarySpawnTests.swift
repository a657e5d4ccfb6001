import Foundation
import Testing
@testable import RSandbox

/// Real sandboxes spawned through the library in this (multithreaded) test process.
@Suite struct LibrarySpawnTests {
    /// Runs `script` in a sandbox with its stdout on a pipe; returns the output and status.
    func run(_ script: String, namespaces: Namespaces = .default, timeout: Duration? = nil) async throws -> (String, RSandbox.ExitStatus) {
        let pipe = Pipe()
        let fd = pipe.fileHandleForWriting.fileDescriptor
        let box = try Sandbox.spawn(SandboxSpec(argv: ["sh", "-c", script], namespaces: namespaces,
                                                fds: [FileDescriptorMapping(source: fd, target: 1)], timeout: timeout))
        try pipe.fileHandleForWriting.close()
        let status = try await box.wait()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        return (String(decoding: out, as: UTF8.self), status)
    }

    @Test func waitReturnsTheExitCode() async throws {
        let (out, status) = try await run("echo hi; exit 5")
        #expect(out == "hi\n")
        #expect(status == RSandbox.ExitStatus(termination: .exited(5)))
    }

    @Test func commandIsPid2AndSeesANewUserNamespace() async throws {
        let host = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/user")
        let (out, _) = try await run("echo $$; readlink /proc/self/ns/user")
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.first == "2")
        #expect(lines.last != host)
    }

    @Test func signalReachesTheCommandThroughTheReaper() async throws {
        let pipe = Pipe()
        let box = try Sandbox.spawn(SandboxSpec(
            argv: ["sh", "-c", "trap 'echo usr1; exit 9' USR1; echo ready; while :; do sleep 0.05; done"],
            fds: [FileDescriptorMapping(source: pipe.fileHandleForWriting.fileDescriptor, target: 1)]))
        try pipe.fileHandleForWriting.close()
        let reader = pipe.fileHandleForReading
        var seen = ""
        while !seen.contains("ready\n") {
            let d = reader.availableData
            if d.isEmpty { break }
            seen += String(decoding: d, as: UTF8.self)
        }
        try box.signal(SIGUSR1)
        let status = try await box.wait()
        #expect(status.termination == .exited(9))
        #expect(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) == "usr1\n")
        #expect(throws: SandboxError.self) { try box.signal(SIGTERM) }
    }

    @Test func timeoutKillsTheWholePidNamespace() async throws {
        let token = uniqueToken()
        let started = ContinuousClock.now
        let (_, status) = try await run("trap '' TERM; sleep \(token) & sleep \(token)", timeout: .milliseconds(300))
        #expect(status.timedOut)
        #expect(status.shellCode == 124)
        // The sleeps would last over a day: this only says the timeout ended them. Generous,
        // because the full suite on two cores (100 netd clients, the escape suite) can take
        // seconds to get a spawn through.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(eventually(within: 5) { processes(containing: token).isEmpty })
    }

    @Test func droppingTheHandleKillsAndReapsTheSandbox() throws {
        let token = uniqueToken()
        var pid: Int32 = 0
        do {
            let box = try Sandbox.spawn(SandboxSpec(argv: ["sh", "-c", "sleep \(token) & sleep \(token)"]))
            pid = box.pid
            #expect(eventually(within: 5) { processes(containing: token).count >= 2 })
        }
        // Reaped, not a zombie: the pid is gone from /proc.
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"))
        #expect(eventually(within: 5) { processes(containing: token).isEmpty })
    }

    @Test func spawnsLeakNoDescriptors() throws {
        func openFds() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0 }
        let before = openFds()
        for _ in 0..<100 {
            #expect(throws: SandboxError.self) {
                try Sandbox.spawn(SandboxSpec(argv: ["/no/such/program"]))
            }
            let box = try Sandbox.spawn(SandboxSpec(argv: ["true"]))
            _ = try box.waitBlocking()
        }
        // Tests running alongside hold a few dozen fds at most; a leak per spawn would be 100+.
        #expect(openFds() - before < 60)
    }

    @Test func missingCommandIsAnExecError() throws {
        do {
            _ = try Sandbox.spawn(SandboxSpec(argv: ["no-such-command-xyz"]))
            Issue.record("spawn should fail")
        } catch {
            #expect(error.stage == .exec)
            #expect(error.errno == ENOENT)
            #expect(error.item == "no-such-command-xyz")
        }
    }

    @Test func badCwdIsAChdirError() throws {
        do {
            _ = try Sandbox.spawn(SandboxSpec(argv: ["true"], cwd: "/no/such/dir"))
            Issue.record("spawn should fail")
        } catch {
            #expect(error.stage == .chdir)
            #expect(error.errno == ENOENT)
            #expect(error.item == "cwd \"/no/such/dir\"")
        }
    }

    @Test func spawnFromManyTasksAtOnce() async throws {
        // Off the main thread spawns go through the keeper thread; they must not interfere.
        try await withThrowingTaskGroup(of: RSandbox.ExitStatus.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let box = try Sandbox.spawn(SandboxSpec(argv: ["sh", "-c", "exit \(i)"], namespaces: .all))
                    return try await box.wait()
                }
            }
            var codes: [Int32] = []
            for try await s in group { codes.append(s.shellCode) }
            #expect(codes.sorted() == Array(0..<8))
        }
    }
}
