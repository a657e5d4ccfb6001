import ArgumentParser
import RSandbox
import Testing
@testable import rsandbox

/// The ordered parser and ArgumentParser must read `run` and `shell` arguments the same way.
@Suite struct RunArgumentParserTests {
    static let samples: [[String]] = [
        ["--", "true"],
        ["true"],
        ["--unshare-all", "--share-net", "--", "sh", "-c", "echo hi"],
        ["--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup", "--", "id"],
        ["--share-pid", "--share-user", "--as-pid-1", "--clearenv", "--", "env"],
        ["--uid", "0", "--gid", "0", "--hostname", "box", "--chdir", "/tmp", "--", "pwd"],
        ["--uid=0", "--hostname=box", "--", "pwd"],
        ["--setenv", "A=1", "--setenv", "B=2=3", "--unsetenv", "HOME", "--", "env"],
        ["--pass-fd", "3", "--pass-fd", "4:9", "--timeout", "1.5", "--json-status", "/tmp/s.json", "--", "true"],
        ["--no-die-with-parent", "--", "true"],
        ["--no-die-with-parent", "--die-with-parent", "--", "true"],
        ["--timeout", "1", "--timeout", "2", "--", "sleep", "1"],
        ["echo", "a", "b"],
        ["--rootfs", "/srv/root", "--bind", "/a", "/b", "--bind", "/c", "/d", "--", "ls"],
        ["--ro-bind", "/", "/", "--ro-bind-try", "/x", "/y", "--", "ls"],
        ["--dev-bind", "/dev", "/dev", "--dev-bind-try", "/dev/kvm", "/dev/kvm", "--bind-try", "/m", "/n", "--", "ls"],
        ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev", "--mqueue", "/dev/mqueue", "--", "ls"],
        ["--dir", "/a/b", "--symlink", "usr/bin", "/bin", "--remount-ro", "/a", "--chmod", "0700", "/a", "--", "ls"],
        ["--cap-add", "NET_ADMIN", "--cap-add=chown,fowner", "--cap-drop", "ALL", "--", "id"],
        ["--seccomp", "/etc/profile.json", "--no-nested-userns", "--", "true"],
        ["--seccomp=unconfined", "--nested-userns", "--", "true"],
        ["--nested-userns", "--no-nested-userns", "--", "true"],
        ["--net", "bridge=rsbr1", "--", "true"],
        ["--net=none", "--share-net", "--", "true"],
        ["--net", "user", "--publish", "127.0.0.1:8080:80", "-p", "[::1]:5353:53/udp", "--publish=9000:9000/tcp", "--", "true"],
    ]

    /// ArgumentParser's reading as RunOptions. It cannot order steps across flags, so this
    /// lists them kind by kind; the samples use an order that both agree on.
    func viaArgumentParser(_ args: [String]) throws -> RunOptions {
        let run = try Run.parse(args)
        let f = run.flags
        var o = RunOptions(
            unshareAll: f.unshareAll, unshareNet: f.unshareNet, unshareIpc: f.unshareIpc, unshareUts: f.unshareUts,
            unshareCgroup: f.unshareCgroup, shareNet: f.shareNet, sharePid: f.sharePid, shareUser: f.shareUser,
            asPid1: f.asPid1, uid: f.uid, gid: f.gid, hostname: f.hostname, chdir: f.chdir, setenv: f.setenv,
            unsetenv: f.unsetenv, clearenv: f.clearenv, passFd: f.passFd, timeout: f.timeout, jsonStatus: f.jsonStatus,
            dieWithParent: f.dieWithParent, rootfs: f.rootfs, capAdd: f.capAdd, capDrop: f.capDrop,
            seccomp: f.seccomp, nestedUserns: f.nestedUserns, command: run.command)
        o.net = f.net
        o.publish = f.publish
        func pairs(_ v: [String]) -> [(String, String)] {
            stride(from: 0, to: v.count - 1, by: 2).map { (v[$0], v[$0 + 1]) }
        }
        var m: [Mount] = []
        m += pairs(f.bind).map { .bind(source: $0.0, destination: $0.1) }
        m += pairs(f.roBind).map { .bind(source: $0.0, destination: $0.1, options: .readOnly) }
        m += pairs(f.roBindTry).map { .bind(source: $0.0, destination: $0.1, options: [.readOnly, .optional]) }
        m += pairs(f.devBind).map { .bind(source: $0.0, destination: $0.1, options: .devices) }
        m += pairs(f.devBindTry).map { .bind(source: $0.0, destination: $0.1, options: [.devices, .optional]) }
        m += pairs(f.bindTry).map { .bind(source: $0.0, destination: $0.1, options: .optional) }
        m += f.tmpfs.map { .tmpfs(destination: $0) }
        m += f.proc.map { .proc(destination: $0) }
        m += f.dev.map { .dev(destination: $0) }
        m += f.mqueue.map { .mqueue(destination: $0) }
        m += f.dir.map { .dir(destination: $0) }
        m += pairs(f.symlink).map { .symlink(target: $0.0, destination: $0.1) }
        m += f.remountRo.map { .remountReadOnly(destination: $0) }
        m += pairs(f.chmod).map { .chmod(destination: $0.1, mode: UInt32($0.0, radix: 8)!) }
        o.steps = m.map { .mount($0) }
        return o
    }

    @Test(arguments: samples)
    func orderedParserMatchesArgumentParser(_ args: [String]) throws {
        guard case .options(let ours) = RunArgumentParser.parse(args[...]) else {
            Issue.record("the ordered parser should take \(args)")
            return
        }
        #expect(ours == (try viaArgumentParser(args)))
    }

    @Test func mountStepsKeepTheirOrder() throws {
        let args = ["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--bind", "/w", "/tmp/w", "--", "ls"]
        guard case .options(let o) = RunArgumentParser.parse(args[...]) else { Issue.record("not parsed"); return }
        #expect(o.steps == [.mount(.bind(source: "/", destination: "/", options: .readOnly)),
                            .mount(.tmpfs(destination: "/tmp")),
                            .mount(.bind(source: "/w", destination: "/tmp/w"))])
    }

    @Test func modifiersApplyToTheNextStepOnly() throws {
        let args = ["--size", "64M", "--perms", "0700", "--tmpfs", "/a", "--tmpfs", "/b", "--perms", "0750", "--dir", "/c", "--", "ls"]
        guard case .options(let o) = RunArgumentParser.parse(args[...]) else { Issue.record("not parsed"); return }
        #expect(o.steps == [.mount(.tmpfs(destination: "/a", size: 64 << 20, mode: 0o700)),
                            .mount(.tmpfs(destination: "/b")),
                            .mount(.dir(destination: "/c", mode: 0o750))])
    }

    @Test func overlaysTakeThePrecedingLayers() throws {
        let args = ["--overlay-src", "/l1", "--overlay-src", "/l2", "--tmp-overlay", "/t",
                    "--overlay-src", "/l3", "--overlay", "/up", "/wk", "/p", "--", "ls"]
        guard case .options(let o) = RunArgumentParser.parse(args[...]) else { Issue.record("not parsed"); return }
        #expect(o.steps == [.mount(.overlay(lowers: ["/l1", "/l2"], destination: "/t", mode: .temporary)),
                            .mount(.overlay(lowers: ["/l3"], destination: "/p", mode: .persistent(upper: "/up", work: "/wk")))])
        #expect(RunArgumentParser.parse(["--tmp-overlay", "/t", "--", "ls"][...])
                == .invalid("--tmp-overlay \"/t\": give its layers with --overlay-src first"))
    }

    @Test func badModifierValuesAreRefusedWithAMessage() {
        #expect(RunArgumentParser.parse(["--size", "lots", "--tmpfs", "/t", "--", "ls"][...])
                == .invalid("--size \"lots\": expected bytes such as 65536, 64K, 512M or 1G"))
        #expect(RunArgumentParser.parse(["--perms", "0999", "--dir", "/t", "--", "ls"][...])
                == .invalid("--perms \"0999\": expected an octal mode such as 0755"))
        #expect(RunArgumentParser.parse(["--file", "x", "/f", "--", "ls"][...])
                == .invalid("--file \"x\": expected a descriptor number"))
    }

    /// Anything the ordered parser does not fully understand goes to ArgumentParser.
    @Test(arguments: [
        ["--help"], ["-h"], ["--bogus", "--", "true"], ["--uid"], ["sh", "-c", "x"],
        ["--unshare-all=1", "--", "true"], ["--timeout", "--", "x"], ["--bind", "/a"], ["--bind", "/a", "--", "x"],
        ["--print-spec"],
    ])
    func defersWhatItDoesNotKnow(_ args: [String]) {
        #expect(RunArgumentParser.parse(args[...]) == .deferred)
    }

    @Test func shellTakesPrintSpecAndNoCommand() {
        guard case .options(let o) = RunArgumentParser.parse(["--print-spec"][...], shell: true) else {
            Issue.record("not parsed")
            return
        }
        #expect(o.printSpec && o.command.isEmpty)
    }

    func helpFlags(_ help: String) -> Set<String> {
        var names: Set<String> = []
        for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "/" }) {
            let w = String(word.prefix { $0.isLetter || $0.isNumber || $0 == "-" })
            if w.hasPrefix("--"), w.count > 2 { names.insert(w) }
        }
        names.remove("--help")
        return names
    }

    @Test func orderedParserKnowsEveryFlagInHelp() {
        for (help, shell) in [(Run.helpMessage(columns: 300), false), (Shell.helpMessage(columns: 300), true)] {
            let names = helpFlags(help)
            let known = RunArgumentParser.knownNames(shell: shell)
            #expect(!names.isEmpty)
            #expect(names.subtracting(known).isEmpty, "help lists \(names.subtracting(known))")
            #expect(known.subtracting(names).isEmpty, "unknown to help: \(known.subtracting(names))")
        }
    }

    @Test func durationsParse() {
        #expect(DurationParser.parse("30") == .seconds(30))
        #expect(DurationParser.parse("1.5") == .milliseconds(1500))
        #expect(DurationParser.parse("500ms") == .milliseconds(500))
        #expect(DurationParser.parse("2m") == .seconds(120))
        #expect(DurationParser.parse("1h") == .seconds(3600))
        for bad in ["", "soon", "-1", "0", "1e3", "5d", "ms", " 1"] {
            #expect(DurationParser.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func byteSizesParse() {
        #expect(RunArgumentParser.bytes("65536") == 65536)
        #expect(RunArgumentParser.bytes("64K") == 65536)
        #expect(RunArgumentParser.bytes("1G") == 1 << 30)
        for bad in ["", "0", "K", "-1", "1T", "99999999999999999999"] {
            #expect(RunArgumentParser.bytes(bad) == nil, "\(bad)")
        }
    }
}
