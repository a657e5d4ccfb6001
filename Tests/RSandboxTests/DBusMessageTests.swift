import Foundation
import Testing
@testable import RSandbox

/// The D-Bus messages of the transient-scope request, byte for byte. The expected bytes were made
/// by jeepney (an independent pure-Python D-Bus implementation, `Message.serialise`), so these
/// tests hold our encoder and decoder to the wire format, not to themselves. The real manager is
/// reached in the VM lane (scripts/vm/systemd.sh).
@Suite struct DBusMessageTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    static let startTransientUnit = bytes(
        "6c010001d800000001000000b600000001016f00190000002f6f72672f667265656465736b746f702f73797374656d64310000000000000002017300200000006f72672e667265656465736b746f702e73797374656d64312e4d616e616765720000000000000000030173001200000053746172745472616e7369656e74556e697400000000000006017300180000006f72672e667265656465736b746f702e73797374656d64310000000000000000080167001073736128737629612873612873762929000000150000007273616e64626f782d34322d6162632e73636f7065000000040000006661696c00000000a3000000000000000b0000004465736372697074696f6e0001730000280000007273616e64626f782073757065727669736f7220343220287265736f75726365206c696d69747329000000000000000004000000504944730002617500000000040000002a0000000800000044656c65676174650001620001000000000000000b000000436f6c6c6563744d6f6465000173000012000000696e6163746976652d6f722d6661696c6564000000000000")
    static let jobReturn = bytes(
        "6c02000124000000090000000f000000050175000100000008016700016f00001f0000002f6f72672f667265656465736b746f702f73797374656d64312f6a6f622f3700")
    static let unitExists = bytes(
        "6c0300014a0000000a0000003f00000004017300230000006f72672e667265656465736b746f702e73797374656d64312e556e697445786973747300000000000501750001000000080167000173000045000000556e6974207273616e64626f782d34322d6162632e73636f70652077617320616c7265616479206c6f61646564206f7220686173206120667261676d656e742066696c652e00")
    static let jobRemoved = bytes(
        "6c0400014d0000000b0000007a00000001016f00190000002f6f72672f667265656465736b746f702f73797374656d64310000000000000002017300200000006f72672e667265656465736b746f702e73797374656d64312e4d616e616765720000000000000000030173000a0000004a6f6252656d6f7665640000000000000801670004756f737300000000000000070000001f0000002f6f72672f667265656465736b746f702f73797374656d64312f6a6f622f3700150000007273616e64626f782d34322d6162632e73636f706500000004000000646f6e6500")
    static let propertiesChanged = bytes(
        "6c0400014c0000000c0000008600000001016f00200000002f6f72672f667265656465736b746f702f73797374656d64312f756e69742f780000000000000000020173001f0000006f72672e667265656465736b746f702e444275732e50726f7065727469657300030173001100000050726f706572746965734368616e67656400000000000000080167000873617b73767d61730000001d0000006f72672e667265656465736b746f702e73797374656d64312e556e69740000001f0000000b0000004163746976655374617465000173000006000000616374697665000000000000")

    @Test func startTransientUnitIsEncodedAsTheSpecSays() {
        let m = SystemdScope.startMessage(unit: "rsandbox-42-abc.scope", pid: 42, serial: 1)
        #expect(m.signature == "ssa(sv)a(sa(sv))")
        #expect(m.encoded() == Self.startTransientUnit)
    }

    @Test func repliesErrorsAndSignalsAreDecoded() throws {
        let (ret, n1) = try DBusMessage.decode(Self.jobReturn[...])
        #expect(n1 == Self.jobReturn.count)
        #expect(ret.kind == .methodReturn && ret.replySerial == 1 && ret.body == [.objectPath("/org/freedesktop/systemd1/job/7")])

        let (err, _) = try DBusMessage.decode(Self.unitExists[...])
        #expect(err.kind == .error && err.errorName == "org.freedesktop.systemd1.UnitExists")
        #expect(err.body == [.string("Unit rsandbox-42-abc.scope was already loaded or has a fragment file.")])

        let (sig, _) = try DBusMessage.decode(Self.jobRemoved[...])
        #expect(sig.kind == .signal && sig.member == "JobRemoved")
        #expect(sig.body == [.uint32(7), .objectPath("/org/freedesktop/systemd1/job/7"), .string("rsandbox-42-abc.scope"), .string("done")])

        // A body of a type we do not read is skipped whole, and the next message follows it.
        let two = Self.propertiesChanged + Self.jobReturn
        let (other, n) = try DBusMessage.decode(two[...])
        #expect(other.member == "PropertiesChanged" && other.body.isEmpty && n == Self.propertiesChanged.count)
        #expect(try DBusMessage.decode(two[n...]).0 == ret)
    }

    @Test func partialAndMalformedInputIsRefused() {
        for cut in [0, 10, 16, Self.jobRemoved.count - 1] {
            #expect(throws: DBusMessage.DecodeError.incomplete) { try DBusMessage.decode(Self.jobRemoved[..<cut]) }
        }
        var big = Self.jobRemoved
        big[0] = UInt8(ascii: "B")
        #expect(throws: DBusMessage.DecodeError.malformed("not little-endian")) { try DBusMessage.decode(big[...]) }
        var badString = Self.jobReturn
        badString[badString.count - 1] = UInt8(ascii: "x")   // the object path's NUL
        #expect(throws: DBusMessage.DecodeError.malformed("string")) { try DBusMessage.decode(badString[...]) }
        var huge = Self.jobReturn
        huge[4] = 0xff; huge[5] = 0xff; huge[6] = 0xff; huge[7] = 0x7f   // body length near 2 GiB
        #expect(throws: DBusMessage.DecodeError.malformed("length")) { try DBusMessage.decode(huge[...]) }
    }

    /// A fake manager on a unix socket: answers the SASL handshake, then writes `replies`.
    final class FakeManager: @unchecked Sendable {
        final class Received: @unchecked Sendable { var bytes: [UInt8] = [] }
        let path: String
        let listener: Int32
        let received = Received()

        init(replies: [[UInt8]], auth: String = "OK 0123456789abcdef0123456789abcdef", under dir: String? = nil) {
            let path = (dir ?? TestEnvironment.makeSharedDirectory()) + "/private"
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            listen(fd, 1)
            chmod(path, 0o777)   // the test user connects too
            self.path = path
            self.listener = fd
            let box = received
            Thread {
                let c = accept(fd, nil, nil)
                guard c >= 0 else { return }
                var buf = [UInt8](repeating: 0, count: 4096)
                // "\0AUTH EXTERNAL …\r\n"; after our OK, "BEGIN\r\n" and the call.
                var got: [UInt8] = []
                while !String(decoding: got, as: UTF8.self).contains("\r\n") {
                    let n = read(c, &buf, buf.count); if n <= 0 { break }; got += buf[0..<n]
                }
                _ = write(c, auth + "\r\n", auth.utf8.count + 2)
                while got.count < 300 {
                    let n = read(c, &buf, buf.count); if n <= 0 { break }; got += buf[0..<n]
                }
                box.bytes = got
                for r in replies { _ = r.withUnsafeBytes { write(c, $0.baseAddress, $0.count) } }
                Thread.sleep(forTimeInterval: 1)
                close(c)
            }.start()
        }

        deinit {
            close(listener)
            unlink(path)
        }
    }

    @Test func aScopeRequestSpeaksSASLThenTheCall() throws {
        let fake = FakeManager(replies: [Self.jobReturn, Self.jobRemoved])
        #expect(throws: SandboxError.self) { _ = try SystemdScope.enter(socket: fake.path, timeout: .seconds(5)) }
        Thread.sleep(forTimeInterval: 0.2)
        let sent = fake.received.bytes
        let uidHex = Array(String(getuid()).utf8).map { String(format: "%02x", $0) }.joined()
        #expect(sent.starts(with: [0] + Array("AUTH EXTERNAL \(uidHex)\r\nBEGIN\r\n".utf8)))
        let call = Array(sent.drop(while: { $0 != UInt8(ascii: "l") }))
        let (m, _) = try DBusMessage.decode(call[...])
        #expect(m.member == "StartTransientUnit" && m.signature == "ssa(sv)a(sa(sv))")
    }

    /// What `SystemdScope.enter` throws against a fake manager that answers `replies`.
    func refusal(_ replies: [[UInt8]], auth: String = "OK 0123456789abcdef0123456789abcdef",
                 timeout: Duration = .seconds(5)) throws -> SandboxError {
        let fake = FakeManager(replies: replies, auth: auth)
        return try withExtendedLifetime(fake) {
            try #require(throws: SandboxError.self) { _ = try SystemdScope.enter(socket: fake.path, timeout: timeout) }
        }
    }

    @Test func theManagersAnswersBecomeErrors() throws {
        // Done, but this process is not in the scope (a fake manager moves nobody): refused.
        var e = try refusal([Self.jobReturn, Self.jobRemoved])
        #expect(e.stage == .cgroup && e.reason.hasPrefix("started, but this process is in"), "\(e)")
        // The signal may come before the reply.
        e = try refusal([Self.jobRemoved, Self.jobReturn])
        #expect(e.reason.hasPrefix("started, but this process is in"), "\(e)")
        e = try refusal([Self.unitExists])
        #expect(e.reason == "org.freedesktop.systemd1.UnitExists: Unit rsandbox-42-abc.scope was already loaded or has a fragment file.")
        var failed = Self.jobRemoved
        failed.replaceSubrange(failed.count - 5..<failed.count, with: Array("fail\0".utf8))
        e = try refusal([Self.jobReturn, failed])
        #expect(e.reason == "the manager's job ended with \"fail\"", "\(e)")
        e = try refusal([], auth: "REJECTED EXTERNAL")
        #expect(e.reason == "the manager refused us: REJECTED EXTERNAL")
        e = try refusal([Self.jobReturn], timeout: .milliseconds(300))
        #expect(e.errno == ETIMEDOUT && e.reason == "the systemd user manager did not answer in time")
        e = try #require(throws: SandboxError.self) { _ = try SystemdScope.enter(socket: "/nonexistent/private") }
        #expect(e.errno == ENOENT && e.item == "/nonexistent/private")
    }

    /// Where our cgroup cannot hold the limits and a user manager runs, a limit asks it for a
    /// scope; what the manager answers reaches the user. As the unprivileged user, on this host.
    @Test func aLimitAsksTheUserManagerForAScope() throws {
        let runtime = TestEnvironment.makeSharedDirectory()
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        mkdir(runtime + "/systemd", 0o777)
        chmod(runtime + "/systemd", 0o777)
        let fake = FakeManager(replies: [Self.unitExists], under: runtime + "/systemd")
        let run = try Running([TestEnvironment.binary, "run", "--memory", "64M", "--", "true"], runner: .testUser,
                              extraEnv: ["XDG_RUNTIME_DIR": runtime])
        let r = run.finish()
        #expect(r.code == 125)
        #expect(r.stderr.hasPrefix("rsandbox: cgroup: systemd scope rsandbox-\(run.pid)-"), "\(r.stderr)")
        #expect(r.stderr.contains(".scope: org.freedesktop.systemd1.UnitExists: Unit rsandbox-42-abc.scope was already loaded"), "\(r.stderr)")
        #expect(r.stderr.contains("(asked for because "), "\(r.stderr)")
        let call = Array(fake.received.bytes.drop(while: { $0 != UInt8(ascii: "l") }))
        let (m, _) = try DBusMessage.decode(call[...])
        #expect(m.member == "StartTransientUnit")
        #expect(String(decoding: call, as: UTF8.self).contains("rsandbox-\(run.pid)-"))
        // Without a limit the manager is not asked: the socket still listens, but a connection
        // would go unanswered (the fake serves one) and end in a set-up error, not exit 0.
        let plain = try Running([TestEnvironment.binary, "run", "--", "true"], runner: .testUser,
                                extraEnv: ["XDG_RUNTIME_DIR": runtime]).finish()
        #expect(plain.code == 0, "\(plain.stderr)")
        withExtendedLifetime(fake) {}
    }
}
