import Foundation
import Testing
@testable import RSandbox

/// NetdClient against a fake rsandbox-netd: a SOCK_SEQPACKET listener that answers every
/// request with `refusal` a given number of times, then with `final`, and counts the requests.
@Suite(.serialized) struct NetdClientTests {
    final class FakeNetd {
        let socket: String
        let server: Running

        init(refusal: String, times: Int, final: String) throws {
            let dir = TestEnvironment.makeSharedDirectory()
            socket = dir + "/netd.sock"
            server = try Running(["/usr/bin/python3", "-c", """
                import socket, sys
                path, refusal, times, final = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(path + ".new"); s.listen(64)
                import os; os.rename(path + ".new", path)
                count = 0
                while True:
                    c, _ = s.accept(); c.recv(4096); count += 1
                    open(path + ".count", "w").write(str(count))
                    c.send((refusal if count <= times else final).encode()); c.close()
                """, socket, refusal, String(times), final], runner: .root)
            guard eventually(within: 5, { FileManager.default.fileExists(atPath: socket) }) else {
                throw SandboxError(stage: .network, item: socket, reason: "the fake netd did not start")
            }
        }

        var requests: Int { Int((try? String(contentsOfFile: socket + ".count", encoding: .utf8)) ?? "") ?? 0 }

        deinit {
            kill(server.pid, SIGKILL)
            _ = server.finish()
        }
    }

    @Test(arguments: ["refused too many connections from your uid", "refused netd is busy (too many connections)"])
    func aBusyNetdIsAskedAgainUntilItAnswers(_ refusal: String) throws {
        let netd = try FakeNetd(refusal: refusal, times: 6, final: "ok rsbt0 1/2")
        #expect(try NetdClient(socket: netd.socket).status() == "rsbt0 1/2")
        #expect(netd.requests == 7)
    }

    @Test func anotherRefusalIsNotRetried() throws {
        let netd = try FakeNetd(refusal: "refused unknown bridge nosuch", times: 100, final: "ok")
        #expect(throws: SandboxError(stage: .network, item: "status", reason: "rsandbox-netd refused: unknown bridge nosuch")) {
            try NetdClient(socket: netd.socket).status()
        }
        #expect(netd.requests == 1)
    }

    /// A netd that stays busy: the refusal is reported after the retry budget (about 3 s), not
    /// waited out forever, and with several tries in between.
    @Test func aNetdThatStaysBusyIsReportedAfterTheRetryBudget() throws {
        let netd = try FakeNetd(refusal: "refused too many connections from your uid", times: 1_000_000, final: "ok")
        let start = Date()
        #expect(throws: SandboxError(stage: .network, item: "status", reason: "rsandbox-netd refused: too many connections from your uid")) {
            try NetdClient(socket: netd.socket).status()
        }
        let took = Date().timeIntervalSince(start)
        #expect(took >= 2.9 && took < 10, "gave up after \(took) s")
        #expect(netd.requests > 20, "\(netd.requests) requests")
    }

}
