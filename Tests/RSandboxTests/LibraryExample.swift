// The example in docs/library.md, compiled and run by LibraryExampleTests. Edit both together.
// example:begin
import RSandbox

/// Runs a command in a sandbox with all seven namespaces and returns its exit status.
func runExample() async throws -> ExitStatus {
    var spec = SandboxSpec(argv: ["sh", "-c", "echo \"hello from $(hostname), pid $$\"; exit 3"])
    spec.namespaces = .all              // user, pid, mount, net, ipc, uts, cgroup
    spec.hostname = "example"
    spec.uid = 0                        // root inside, you outside
    spec.gid = 0
    spec.timeout = .seconds(10)         // kills the whole pid namespace when it expires
    spec.environment = EnvironmentSpec(inherit: false, set: [EnvironmentVariable("PATH", "/usr/bin:/bin")])

    do {
        let sandbox = try Sandbox.spawn(spec)   // validates, clones, maps ids, execs
        let status = try await sandbox.wait()    // never blocks a cooperative thread
        if status.timedOut { print("timed out") }
        return status                            // .exited(3); shellCode == 3
    } catch {
        // e.g. "exec: nope: command not found in PATH=/usr/bin:/bin"
        print("rsandbox: \(error)")
        throw error
    }
}
// example:end
