import Glibc
import RSandbox

/// The outcome of `rsandbox run`, written by --json-status as one JSON object.
struct Status {
    var started: Double
    var pid: Int32?
    var exit: ExitStatus?
    var error: SandboxError?
    var code: Int32 = 0
    var wallSeconds: Double = 0

    init(started: Double) {
        self.started = started
    }

    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) / 1e18
    }

    static func clock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    mutating func finish(code: Int32) {
        self.code = code
        wallSeconds = Status.clock() - started
    }

    var json: JSON {
        var fields: [(String, JSON)] = [
            ("pid", pid.map { .int(Int64($0)) } ?? .null),
            ("exit_code", .int(Int64(code))),
        ]
        var commandCode: JSON = .null
        var signal: JSON = .null
        if let exit {
            switch exit.termination {
            case .exited(let c): commandCode = .int(Int64(c))
            case .signaled(let s): signal = .int(Int64(s))
            }
        }
        fields.append(("command_exit_code", commandCode))
        fields.append(("signal", signal))
        fields.append(("timed_out", .bool(exit?.timedOut ?? false)))
        fields.append(("oom_killed", .bool(exit?.oomKilled ?? false)))
        fields.append(("memory_peak_bytes", exit?.usage?.memoryPeak.map { .int(Int64($0)) } ?? .null))
        fields.append(("cpu_user_seconds", exit?.usage?.cpuUser.map { .double(Self.seconds($0)) } ?? .null))
        fields.append(("cpu_system_seconds", exit?.usage?.cpuSystem.map { .double(Self.seconds($0)) } ?? .null))
        fields.append(("wall_seconds", .double(wallSeconds)))
        if let error {
            fields.append(("error", .object([
                ("stage", .string(error.stage.rawValue)),
                ("errno", .int(Int64(error.errno))),
                ("errno_name", error.errno == 0 ? .null : .string(errnoName(error.errno))),
                ("item", .string(error.item)),
                ("reason", .string(error.reason)),
                ("hint", error.hint.map(JSON.string) ?? .null),
            ])))
        } else {
            fields.append(("error", .null))
        }
        return .object(fields)
    }

    func write(to path: String) throws(SystemErrno) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemErrno(errno: errno) }
        defer { close(fd) }
        var text = json.encoded + "\n"
        let n = text.withUTF8 { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n != text.utf8.count { throw SystemErrno(errno: n < 0 ? errno : EIO) }
    }
}

struct SystemErrno: Error {
    var errno: Int32
}
