import Glibc
import RSandbox

/// Builds the shell's default view around the user's flags and runs it, with a pty when stdin
/// is a terminal.
struct ShellSession {
    var options: RunOptions
    var directory: String? = Plan.processDirectory()
    var environment: [String] = Plan.processEnvironment()

    /// The default view, then the user's own steps. Spec values the user set win.
    func spec(interactive: Bool) throws(SandboxError) -> SandboxSpec {
        var spec = try options.buildSpec()
        if !options.unshareAll {
            spec.namespaces = Namespaces(user: !options.shareUser, pid: !options.sharePid, mount: true,
                                         net: !options.shareNet, ipc: true, uts: true, cgroup: options.unshareCgroup)
            _ = try options.parseNet(&spec.namespaces) // --net decides the network namespace here too
        }
        if spec.hostname == nil && spec.namespaces.uts { spec.hostname = "rsandbox" }
        // Nested tools (rsandbox, bwrap, podman, unshare) work in a shell unless refused.
        spec.nestedUserNamespaces = options.nestedUserns ?? true
        if spec.argv.isEmpty {
            let shell = Plan.value(of: "SHELL", in: environment).flatMap { $0.hasPrefix("/") ? $0 : nil }
            spec.argv = [shell ?? "/bin/sh"]
        }
        var view: [Mount]
        if spec.rootfs == nil {
            view = [
                .bind(source: "/", destination: "/", options: .readOnly),
                .dev(destination: "/dev"),
                .proc(destination: "/proc"),
                .tmpfs(destination: "/tmp", mode: 0o1777),
                .tmpfs(destination: "/home"),
            ]
            // The project: the current directory, writable. Never "/" (that would be all of it).
            if let dir = directory, dir != "/" {
                view.append(.bind(source: dir, destination: dir))
            }
            if spec.cwd == nil { spec.cwd = directory }
        } else {
            view = [.dev(destination: "/dev"), .proc(destination: "/proc"), .tmpfs(destination: "/tmp", mode: 0o1777)]
            if spec.cwd == nil { spec.cwd = "/" }
        }
        if !spec.namespaces.pid { view.removeAll { if case .proc = $0 { true } else { false } } }
        spec.mounts = view + spec.mounts
        spec.controllingTerminal = interactive
        return spec
    }

    func execute() -> Int32 {
        let interactive = isatty(0) == 1 && isatty(1) == 1
        var spec: SandboxSpec
        do {
            spec = try self.spec(interactive: interactive)
        } catch {
            return RunOptions.report(error)
        }
        if options.printSpec {
            writeStdout(SpecJSON.encode(spec) + "\n")
            return 0
        }
        guard interactive else {
            // Scripts: no pty, a session of its own, like `run`.
            return options.execute(spec: spec)
        }
        Sandbox.blockForwardedSignals()
        do {
            let pty = try PseudoTerminal()
            spec.fds += pty.stdio
            pty.copyWindowSize(from: 0)
            let box = try Sandbox.spawn(spec)
            pty.closeReplica()
            let raw = RawTerminalMode(fd: 0)
            defer { raw?.restore() }
            let status = try box.waitBlocking(forwarding: Sandbox.forwardedSignals, relay: pty)
            return status.shellCode
        } catch {
            return RunOptions.report(error)
        }
    }
}
