import Foundation
import Testing

/// `rsandbox shell` driven through tmux, as the unprivileged test user: a real terminal.
@Suite(.serialized) struct ShellTests {
    /// A tmux server of the test user's, with one window running `command`.
    final class Tmux {
        let dir: String
        var socket: String { dir + "/tmux.sock" }

        init(command: String, cwd: String, width: Int = 100, height: Int = 30) throws {
            dir = userDirectory()
            let env = "env HOME=\(TestUser.current.home) SHELL=/bin/bash TERM=xterm PS1='rsbx$ '"
            // The server outlives this call: it must not inherit our output pipes.
            // The server outlives this call: it must not inherit our pipes, so system(3), not Process.
            let user = TestEnvironment.prefix(.testUser).joined(separator: " ")
            let start = "\(user) /usr/bin/tmux -S \(socket) new-session -d -x \(width) -y \(height) -c \(cwd) "
                + "\"\(env) \(command); echo EXIT=\\$?; sleep 60\" </dev/null >/dev/null 2>&1"
            let rc = system(start)
            precondition(rc == 0, "tmux did not start: \(rc)")
        }

        deinit {
            _ = try? run(["kill-server"])
            try? FileManager.default.removeItem(atPath: dir)
        }

        @discardableResult
        func run(_ args: [String]) throws -> CLIResult {
            try Running(["/usr/bin/tmux", "-S", socket] + args, runner: .testUser).finish()
        }

        func send(_ keys: String...) throws {
            try run(["send-keys"] + keys)
        }

        func screen() -> String {
            (try? run(["capture-pane", "-p"]).stdout) ?? ""
        }

        /// Waits until the screen shows `text` (after `after`, if given).
        func waitFor(_ text: String, within seconds: Double = 10) -> Bool {
            eventually(within: seconds) { screen().contains(text) }
        }
    }

    @Test func shellShowsTheDefaultViewInARealTerminal() throws {
        let project = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let token = uniqueToken()
        let t = try Tmux(command: "\(TestEnvironment.binary) shell", cwd: project)
        #expect(t.waitFor("rsandbox:"), "the prompt shows the sandbox's hostname: \(t.screen())")

        try t.send("clear; echo U=$(id -u) P=$(pwd) H=$(ls -A /home | wc -l) N=$(hostname)", "Enter")
        #expect(t.waitFor("U=\(TestUser.current.uid) P=\(project) H=0 N=rsandbox"), "\(t.screen())")

        try t.send("echo kept > in-project; echo gone > /tmp/elsewhere-\(token); echo W=done", "Enter")
        #expect(t.waitFor("W=done"), "\(t.screen())")
        #expect((try? String(contentsOfFile: project + "/in-project", encoding: .utf8)) == "kept\n")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/elsewhere-\(token)"))

        try t.send("clear; echo S=$(stty size)", "Enter")
        #expect(t.waitFor("S=30 100"), "\(t.screen())")
        try t.run(["resize-window", "-x", "120", "-y", "40"])
        try t.send("clear; echo S=$(stty size)", "Enter")
        #expect(t.waitFor("S=40 120"), "SIGWINCH copies the new size: \(t.screen())")

        try t.send("exit 7", "Enter")
        #expect(t.waitFor("EXIT=7"), "\(t.screen())")
    }

    @Test func ctrlCReachesTheShellAndJobControlWorks() throws {
        let project = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let t = try Tmux(command: "\(TestEnvironment.binary) shell", cwd: project)
        #expect(t.waitFor("rsandbox:"), "\(t.screen())")

        // bash abandons the rest of a line whose job died of SIGINT: check $? on the next line.
        // Keys go only once the job runs (its unique argument shows up in the host's /proc).
        let first = uniqueToken()
        try t.send("sleep \(first)", "Enter")
        #expect(eventually(within: 10) { !processes(containing: first).isEmpty })
        try t.send("C-c")
        try t.send("echo after-sleep=$?", "Enter")
        #expect(t.waitFor("after-sleep=130"), "Ctrl-C interrupted the foreground job, not rsandbox: \(t.screen())")

        let second = uniqueToken()
        try t.send("clear; sleep \(second)", "Enter")
        #expect(eventually(within: 10) { !processes(containing: second).isEmpty })
        try t.send("C-z")
        #expect(t.waitFor("Stopped"), "Ctrl-Z stops the job: \(t.screen())")
        try t.send("clear; jobs; fg", "Enter")
        #expect(t.waitFor("sleep \(second)"), "\(t.screen())")
        usleep(300_000)
        try t.send("C-c")
        #expect(eventually(within: 10) { processes(containing: second).isEmpty }, "fg brought it back and Ctrl-C ended it")
        try t.send("echo back=$?", "Enter")
        #expect(t.waitFor("back=130"), "\(t.screen())")
        try t.send("exit", "Enter")
        #expect(t.waitFor("EXIT=0"), "\(t.screen())")
    }

    @Test func shellWithoutATerminalRunsLikeRun() throws {
        let project = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let r = try shell("cd \(project) && \"$RSANDBOX\" shell -- sh -c 'id -u; pwd; ls -A /home | wc -l; hostname; touch /usr/x 2>&1; exit 3'", as: .testUser)
        #expect(r.code == 3, "\(r.stderr)")
        #expect(Array(r.lines.prefix(4)) == ["\(TestUser.current.uid)", project, "0", "rsandbox"])
        #expect(r.lines.last?.contains("Read-only file system") == true)
    }

    @Test func printSpecShowsTheDefaultViewAsJSON() throws {
        let project = userDirectory()
        defer { try? FileManager.default.removeItem(atPath: project) }
        let r = try shell("cd \(project) && \"$RSANDBOX\" shell --print-spec --uid 0", as: .testUser)
        #expect(r.code == 0, "\(r.stderr)")
        let spec = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(spec["hostname"] as? String == "rsandbox")
        #expect(spec["uid"] as? Int == 0)
        #expect(spec["cwd"] as? String == project)
        let mounts = try #require(spec["mounts"] as? [[String: Any]])
        #expect(mounts.count == 6, "ro /, dev, proc, tmp, home, the project: \(mounts)")
        let ns = try #require(spec["namespaces"] as? [String: Bool])
        #expect(ns["net"] == true && ns["user"] == true && ns["pid"] == true)
    }
}
