import CRSandbox

/// The C form of a Plan: one allocation holding every string, pointer array and scratch buffer
/// the child uses. It must outlive rs_spawn; the child works on its own copy of these pages.
final class PlanArena {
    private let base: UnsafeMutableRawPointer
    private(set) var raw: rs_plan

    /// Room for "dir/argv0" during the PATH search (PATH_MAX).
    static let pathBufferSize = 4096

    init(_ plan: Plan) {
        let strings = plan.argv + plan.envp + [plan.searchPath, plan.cwd ?? "", plan.hostname ?? ""]
        let pointerBytes = (plan.argv.count + 1 + plan.envp.count + 1) * MemoryLayout<UnsafePointer<CChar>?>.stride
        let fdBytes = plan.fds.count * MemoryLayout<rs_fd_map>.stride
        let scratchBytes = plan.fds.count * MemoryLayout<Int32>.stride
        let stringBytes = strings.reduce(0) { $0 + $1.utf8.count + 1 }
        let total = pointerBytes + fdBytes + scratchBytes + Self.pathBufferSize + stringBytes
        base = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 16)

        var cursor = base
        let argvPtr = cursor.bindMemory(to: UnsafePointer<CChar>?.self, capacity: plan.argv.count + 1)
        cursor += (plan.argv.count + 1) * MemoryLayout<UnsafePointer<CChar>?>.stride
        let envPtr = cursor.bindMemory(to: UnsafePointer<CChar>?.self, capacity: plan.envp.count + 1)
        cursor += (plan.envp.count + 1) * MemoryLayout<UnsafePointer<CChar>?>.stride
        let fdPtr = cursor.bindMemory(to: rs_fd_map.self, capacity: max(plan.fds.count, 1))
        cursor += fdBytes
        let scratchPtr = cursor.bindMemory(to: Int32.self, capacity: max(plan.fds.count, 1))
        cursor += scratchBytes
        let pathBuf = cursor.bindMemory(to: CChar.self, capacity: Self.pathBufferSize)
        cursor += Self.pathBufferSize

        func put(_ s: String) -> UnsafePointer<CChar> {
            let p = cursor.bindMemory(to: CChar.self, capacity: s.utf8.count + 1)
            var n = 0
            for b in s.utf8 {
                p[n] = CChar(bitPattern: b)
                n += 1
            }
            p[n] = 0
            cursor += n + 1
            return UnsafePointer(p)
        }
        for (i, a) in plan.argv.enumerated() { argvPtr[i] = put(a) }
        argvPtr[plan.argv.count] = nil
        for (i, e) in plan.envp.enumerated() { envPtr[i] = put(e) }
        envPtr[plan.envp.count] = nil
        for (i, m) in plan.fds.enumerated() {
            fdPtr[i] = rs_fd_map(source: m.source, target: m.target)
            scratchPtr[i] = -1
        }
        let searchPath = put(plan.searchPath)
        let cwd = plan.cwd.map(put)
        let hostname = plan.hostname.map(put)

        let highest = plan.fds.reduce(Int32(2)) { max($0, $1.source, $1.target) }
        raw = rs_plan(
            clone_flags: plan.cloneFlags,
            argv: UnsafePointer(argvPtr),
            envp: UnsafePointer(envPtr),
            search_path: searchPath,
            cwd: cwd,
            hostname: hostname,
            hostname_len: UInt32(plan.hostname?.utf8.count ?? 0),
            nfds: UInt32(plan.fds.count),
            fds: UnsafePointer(fdPtr),
            fd_scratch: scratchPtr,
            path_buf: pathBuf,
            path_buf_len: UInt32(Self.pathBufferSize),
            fd_floor: highest + 1,
            die_with_parent: plan.dieWithParent ? 1 : 0,
            make_mounts_private: plan.makeMountsPrivate ? 1 : 0,
            mount_proc: plan.mountProc ? 1 : 0,
            loopback_up: plan.loopbackUp ? 1 : 0,
            reaper: plan.reaper ? 1 : 0
        )
    }

    deinit {
        base.deallocate()
    }
}
