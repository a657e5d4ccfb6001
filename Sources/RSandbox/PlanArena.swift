import CRSandbox

/// The C form of a Plan: one allocation holding every string, pointer array and scratch buffer
/// the child uses. It must outlive rs_spawn; the child works on its own copy of these pages.
final class PlanArena {
    private let base: UnsafeMutableRawPointer
    private(set) var raw: rs_plan

    /// Room for "dir/argv0" during the PATH search (PATH_MAX).
    static let pathBufferSize = 4096

    init(_ plan: Plan, cgroupFD: Int32 = -1) {
        var strings = plan.argv + plan.envp + [plan.searchPath, plan.cwd ?? "", plan.hostname ?? "", plan.rootfs ?? ""]
        for m in plan.mounts {
            strings += [m.source, m.dest, m.options, m.lowerdir, m.upperdir, m.workdir, m.scratch].compactMap { $0 }
        }
        let dataBytes = plan.mounts.reduce(0) { $0 + $1.data.count }
        let mountBytes = plan.mounts.count * MemoryLayout<rs_mount_op>.stride
        let pointerBytes = (plan.argv.count + 1 + plan.envp.count + 1) * MemoryLayout<UnsafePointer<CChar>?>.stride
        let fdBytes = plan.fds.count * MemoryLayout<rs_fd_map>.stride
        let scratchBytes = plan.fds.count * MemoryLayout<Int32>.stride
        let stringBytes = strings.reduce(0) { $0 + $1.utf8.count + 1 }
        let filterBytes = plan.seccomp == .unconfined ? 0 : Int(RS_SECCOMP_MAX)
        let stackBytes = plan.reaper ? Int(RS_COMMAND_STACK) : 0
        let total = stackBytes + filterBytes + pointerBytes + fdBytes + mountBytes + scratchBytes + Self.pathBufferSize + stringBytes + dataBytes
        base = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 16)

        var cursor = base
        // The command's stack (16-aligned, as base is): only the pages it touches are copied.
        let stack: UnsafeMutableRawPointer? = stackBytes > 0 ? cursor : nil
        cursor += stackBytes
        // Then: struct sock_filter wants 8-byte alignment. The child fills it (rs_send_filter).
        let filter: UnsafeMutableRawPointer? = filterBytes > 0 ? cursor : nil
        cursor += filterBytes
        let argvPtr = cursor.bindMemory(to: UnsafePointer<CChar>?.self, capacity: plan.argv.count + 1)
        cursor += (plan.argv.count + 1) * MemoryLayout<UnsafePointer<CChar>?>.stride
        let envPtr = cursor.bindMemory(to: UnsafePointer<CChar>?.self, capacity: plan.envp.count + 1)
        cursor += (plan.envp.count + 1) * MemoryLayout<UnsafePointer<CChar>?>.stride
        let fdPtr = cursor.bindMemory(to: rs_fd_map.self, capacity: max(plan.fds.count, 1))
        cursor += fdBytes
        let mountPtr = cursor.bindMemory(to: rs_mount_op.self, capacity: max(plan.mounts.count, 1))
        cursor += mountBytes
        let scratchPtr = cursor.bindMemory(to: Int32.self, capacity: max(plan.fds.count, 1))
        cursor += scratchBytes
        let pathBuf = cursor.bindMemory(to: CChar.self, capacity: Self.pathBufferSize)
        cursor += Self.pathBufferSize

        func putMutable(_ s: String) -> UnsafeMutablePointer<CChar> {
            let p = cursor.bindMemory(to: CChar.self, capacity: s.utf8.count + 1)
            var n = 0
            for b in s.utf8 {
                p[n] = CChar(bitPattern: b)
                n += 1
            }
            p[n] = 0
            cursor += n + 1
            return p
        }
        func put(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(putMutable(s)) }
        func putBytes(_ b: [UInt8]) -> UnsafePointer<CChar> {
            let p = cursor.bindMemory(to: CChar.self, capacity: max(b.count, 1))
            for (i, byte) in b.enumerated() { p[i] = CChar(bitPattern: byte) }
            cursor += b.count
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
        let rootfs = plan.rootfs.map(put)
        for (i, m) in plan.mounts.enumerated() {
            mountPtr[i] = rs_mount_op(
                kind: m.kind, flags: m.flags, source: m.source.map(put), dest: put(m.dest),
                options: m.options.map(putMutable), data: putBytes(m.data), data_len: UInt32(m.data.count),
                mode: m.mode, lowerdir: m.lowerdir.map(put), upperdir: m.upperdir.map(put),
                workdir: m.workdir.map(put), scratch: m.scratch.map(put))
        }

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
            reaper: plan.reaper ? 1 : 0,
            new_root: plan.newRoot ? 1 : 0,
            cwd_try: plan.cwdTry ? 1 : 0,
            new_session: plan.newSession ? 1 : 0,
            controlling_tty: plan.controllingTerminal ? 1 : 0,
            rootfs: rootfs,
            cgroup_fd: cgroupFD,
            switch_uid: plan.switchUid.map { Int64($0) } ?? -1,
            switch_gid: plan.switchGid.map { Int64($0) } ?? -1,
            nmounts: UInt32(plan.mounts.count),
            mounts: UnsafePointer(mountPtr),
            drop_caps: 1,
            no_new_privs: 1,
            mask_paths: UInt8(plan.maskPaths),
            cap_last: Capabilities.last,
            cap_keep: plan.capabilityMask,
            seccomp: filter != nil ? 1 : 0,
            seccomp_buf: filter,
            command_stack: stack
        )
    }

    deinit {
        base.deallocate()
    }
}
