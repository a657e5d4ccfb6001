/// Reads `rsandbox run` arguments without ArgumentParser. Start-up time is a feature, and the
/// first dynamic protocol lookup ArgumentParser makes scans every conformance in the binary
/// (about 4 ms here). It understands exactly the flags `Run` declares; anything else (help, a
/// typo, a malformed value, an option-looking command word without `--`) returns nil and the
/// caller falls back to ArgumentParser, which gives its usual message. Tests hold the two equal.
enum FastRunParser {
    nonisolated(unsafe) static let flags: [String: WritableKeyPath<RunOptions, Bool>] = [
        "--unshare-all": \.unshareAll, "--unshare-net": \.unshareNet, "--unshare-ipc": \.unshareIpc,
        "--unshare-uts": \.unshareUts, "--unshare-cgroup": \.unshareCgroup, "--share-net": \.shareNet,
        "--share-pid": \.sharePid, "--share-user": \.shareUser, "--as-pid-1": \.asPid1,
        "--clearenv": \.clearenv,
    ]

    /// Options that take a value: store it, or return false when it does not parse.
    static let options: [String: @Sendable (inout RunOptions, String) -> Bool] = [
        "--uid": { o, v in guard let n = UInt32(v) else { return false }; o.uid = n; return true },
        "--gid": { o, v in guard let n = UInt32(v) else { return false }; o.gid = n; return true },
        "--hostname": { o, v in o.hostname = v; return true },
        "--chdir": { o, v in o.chdir = v; return true },
        "--setenv": { o, v in o.setenv.append(v); return true },
        "--unsetenv": { o, v in o.unsetenv.append(v); return true },
        "--pass-fd": { o, v in o.passFd.append(v); return true },
        "--timeout": { o, v in o.timeout = v; return true },
        "--json-status": { o, v in o.jsonStatus = v; return true },
    ]

    /// Every long name the fast path knows (tests compare it with `run --help`).
    static var knownNames: Set<String> {
        Set(flags.keys).union(options.keys).union(["--die-with-parent", "--no-die-with-parent"])
    }

    /// `args` are the words after `run`.
    static func parse(_ args: ArraySlice<String>) -> RunOptions? {
        var o = RunOptions()
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            i += 1
            if a == "--" {
                o.command = Array(args[i...])
                return o.command.isEmpty ? nil : o
            }
            guard a.hasPrefix("-") else {
                // A command without `--`: ArgumentParser would read its options as ours.
                let rest = args[(i - 1)...]
                if rest.contains(where: { $0.hasPrefix("-") }) { return nil }
                o.command = Array(rest)
                return o
            }
            var name = Substring(a)
            var inline: String? = nil
            if let eq = a.firstIndex(of: "=") {
                name = a[..<eq]
                inline = String(a[a.index(after: eq)...])
            }
            if let key = flags[String(name)], inline == nil {
                o[keyPath: key] = true
            } else if name == "--die-with-parent" || name == "--no-die-with-parent", inline == nil {
                o.dieWithParent = name == "--die-with-parent"
            } else if let set = options[String(name)] {
                let value: String
                if let inline {
                    value = inline
                } else {
                    guard i < args.endIndex, !args[i].hasPrefix("-") || args[i] == "-" else { return nil }
                    value = args[i]
                    i += 1
                }
                if !set(&o, value) { return nil }
            } else {
                return nil
            }
        }
        return nil // no command: let ArgumentParser (and then validation) explain
    }
}
