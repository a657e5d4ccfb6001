import Glibc

/// The seccomp program, built on a thread of its own from the start of a spawn: libseccomp takes
/// a quarter to half a millisecond, which then overlaps the plan, clone3, the id maps and the
/// child's set-up instead of adding to them. `program()` waits for it. Without a thread to be
/// had (or with the program already built in this process) it is built inline.
final class FilterBuild: @unchecked Sendable {
    private let build: () -> Result<[UInt8]?, SandboxError>
    private var result: Result<[UInt8]?, SandboxError>?
    private var thread = pthread_t()
    private var running = false

    init(_ build: @escaping () -> Result<[UInt8]?, SandboxError>, background: Bool) {
        self.build = build
        guard background else { return }
        let me = Unmanaged.passRetained(self).toOpaque()
        if pthread_create(&thread, nil, { raw in
            let me = Unmanaged<FilterBuild>.fromOpaque(raw!).takeRetainedValue()
            me.result = me.build()
            return nil
        }, me) == 0 {
            running = true
        } else {
            Unmanaged<FilterBuild>.fromOpaque(me).release()
        }
    }

    /// The program (nil: no filter), once built.
    func program() throws(SandboxError) -> [UInt8]? {
        if running {
            pthread_join(thread, nil)
            running = false
        }
        if result == nil { result = build() }
        return try result!.get()
    }

    deinit {
        // Dropped on an error path before `program()`: collect the thread (unless this is it,
        // releasing the last reference as it ends).
        if running {
            if pthread_equal(pthread_self(), thread) != 0 { pthread_detach(thread) } else { pthread_join(thread, nil) }
        }
    }
}
