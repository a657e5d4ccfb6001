import Foundation
import Synchronization
import Testing

/// Who runs the CLI in a test: root, or the unprivileged test user scripts/setup-test-user made.
enum Runner: String, CustomTestStringConvertible, CaseIterable, Sendable {
    case root
    case testUser

    var testDescription: String { rawValue }
}

struct TestUser: Sendable {
    let name: String
    let uid: UInt32
    let gid: UInt32
    let home: String

    /// The account scripts/setup-test-user creates; a missing one fails the rootless tests loudly.
    static let current: TestUser = {
        let name = ProcessInfo.processInfo.environment["RSANDBOX_TEST_USER"] ?? "rsandbox-test"
        guard let pw = getpwnam(name) else {
            fatalError("test user \(name) is missing: run scripts/setup-test-user as root")
        }
        return TestUser(name: name, uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid,
                        home: String(cString: pw.pointee.pw_dir))
    }()
}

struct CLIResult {
    var code: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// The shared temp directories this test process made, removed at its exit.
enum SharedDirectories {
    static let made = Mutex<[String]>([])

    static func removeAll() {
        for dir in made.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: dir) }
    }
}

enum TestEnvironment {
    /// The package root, from this file's path.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A world-readable temp directory (the test user cannot reach the build folder everywhere).
    /// Every one is removed when the test process exits, whatever the test left in it.
    static func makeSharedDirectory() -> String {
        var template = Array("/tmp/rsandbox-test.XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        chmod(dir, 0o1777)
        SharedDirectories.made.withLock { list in
            if list.isEmpty { atexit { SharedDirectories.removeAll() } }
            list.append(dir)
        }
        return dir
    }

    /// The built `rsandbox`, copied to a directory every user can read and execute.
    static let binary: String = {
        let env = ProcessInfo.processInfo.environment
        var source = env["RSANDBOX_BIN"]
        if source == nil {
            // The test bundle sits in the build folder beside the executable.
            let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            var dir = exe.deletingLastPathComponent()
            while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("rsandbox").path) {
                dir = dir.deletingLastPathComponent()
            }
            source = dir.appendingPathComponent("rsandbox").path
        }
        guard let source, FileManager.default.isExecutableFile(atPath: source) else {
            fatalError("rsandbox binary not found (build it first, or set RSANDBOX_BIN)")
        }
        let dir = makeSharedDirectory()
        chmod(dir, 0o755)
        let dest = dir + "/rsandbox"
        // Copied by a child process: a write descriptor held here could leak into a concurrent
        // test's fork and make every exec of the copy fail with ETXTBSY.
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/usr/bin/install")
        cp.arguments = ["-m", "755", source, dest]
        try! cp.run()
        cp.waitUntilExit()
        precondition(cp.terminationStatus == 0, "cannot copy \(source) to \(dest)")
        installHelper(into: dir)
        return dest
    }()

    /// rsandbox-idmap (scripts/build-helpers) beside the copied CLI, with its file capabilities,
    /// so the CLI finds it next to itself as an installed one would be found.
    static func installHelper(into dir: String) {
        let built = packageRoot.appendingPathComponent(".build/helpers/rsandbox-idmap").path
        precondition(FileManager.default.isExecutableFile(atPath: built), "run scripts/build-helpers first (scripts/test does)")
        let rc = system("install -m 755 \(built) \(dir)/rsandbox-idmap && PATH=$PATH:/usr/sbin:/sbin setcap cap_setuid,cap_setgid+ep \(dir)/rsandbox-idmap")
        precondition(rc == 0, "cannot install rsandbox-idmap with its capabilities in \(dir)")
    }

    /// The helper the tests run directly.
    static var helper: String {
        (binary as NSString).deletingLastPathComponent + "/rsandbox-idmap"
    }

    /// The argv prefix that runs a program as `runner`.
    static func prefix(_ runner: Runner) -> [String] {
        switch runner {
        case .root:
            return []
        case .testUser:
            let u = TestUser.current
            return ["/usr/bin/setpriv", "--reuid=\(u.uid)", "--regid=\(u.gid)", "--clear-groups", "--"]
        }
    }

    static func environment(_ runner: Runner) -> [String: String] {
        var env = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C"]
        switch runner {
        case .root: env["HOME"] = "/root"; env["USER"] = "root"
        case .testUser: env["HOME"] = TestUser.current.home; env["USER"] = TestUser.current.name
        }
        return env
    }
}

/// A started process whose output is collected in the background.
final class Running: @unchecked Sendable {
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()

    init(_ argv: [String], runner: Runner, extraEnv: [String: String] = [:]) throws {
        let full = TestEnvironment.prefix(runner) + argv
        process.executableURL = URL(fileURLWithPath: full[0])
        process.arguments = Array(full.dropFirst())
        process.environment = TestEnvironment.environment(runner).merging(extraEnv) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    func finish() -> CLIResult {
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let code = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return CLIResult(code: code, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

/// Runs `rsandbox ARGS` as `runner` and waits for it.
func rsandbox(_ args: [String], as runner: Runner) throws -> CLIResult {
    try Running([TestEnvironment.binary] + args, runner: runner).finish()
}

/// Runs a shell snippet as `runner` (for fd and redirection set-ups around the CLI).
func shell(_ script: String, as runner: Runner) throws -> CLIResult {
    try Running(["/bin/sh", "-c", script], runner: runner, extraEnv: ["RSANDBOX": TestEnvironment.binary]).finish()
}

/// A token no other process on the machine has in its command line.
func uniqueToken() -> String {
    "\(Int.random(in: 100_000...999_999)).\(Int.random(in: 100...999))"
}

/// Pids of processes whose command line contains `token`.
func processes(containing token: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { name -> Int32? in
        guard let pid = Int32(name),
              let data = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") else { return nil }
        let cmd = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        return cmd.contains(token) ? pid : nil
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass.
func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

extension Runner {
    /// The uid and gid the runner's files should have: inside a user namespace only the
    /// caller's own ids are mapped, so even root cannot write files of an unmapped owner.
    var ids: (uid: uid_t, gid: gid_t) {
        self == .root ? (0, 0) : (TestUser.current.uid, TestUser.current.gid)
    }
}

/// A temp directory owned by `runner`, for fixtures it must write.
func userDirectory(_ runner: Runner = .testUser) -> String {
    let dir = TestEnvironment.makeSharedDirectory()
    chmod(dir, 0o755)
    chown(dir, runner.ids.uid, runner.ids.gid)
    return dir
}

/// Writes `text` to `path` and gives it to `runner`.
func writeUserFile(_ path: String, _ text: String, mode: mode_t = 0o644, _ runner: Runner = .testUser) {
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: Int(mode)])
    chown(path, runner.ids.uid, runner.ids.gid)
}

/// Makes `path` (and its parents inside a test temp directory) owned by `runner`.
func makeUserDirs(_ path: String, _ runner: Runner = .testUser) {
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    var p = path
    while p.count > 1 && p.hasPrefix("/tmp/rsandbox-test.") {
        chown(p, runner.ids.uid, runner.ids.gid)
        p = (p as NSString).deletingLastPathComponent
    }
}

/// A minimal rootfs: busybox-static and its applet links, owned by `runner`.
func makeBusyboxRootfs(_ runner: Runner = .testUser) throws -> String {
    let root = userDirectory(runner) + "/rootfs"
    for d in ["bin", "tmp", "etc"] { makeUserDirs(root + "/" + d, runner) }
    try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
    chown(root + "/bin/busybox", runner.ids.uid, runner.ids.gid)
    for applet in ["sh", "ls", "cat", "echo", "id", "touch", "mkdir", "stat", "readlink", "grep", "wc", "pwd"] {
        try FileManager.default.createSymbolicLink(atPath: root + "/bin/" + applet, withDestinationPath: "busybox")
        lchown(root + "/bin/" + applet, runner.ids.uid, runner.ids.gid)
    }
    writeUserFile(root + "/etc/marker", "inside the rootfs\n", runner)
    return root
}
