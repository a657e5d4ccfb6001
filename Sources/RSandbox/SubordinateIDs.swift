import Glibc

/// The caller's subordinate ranges (/etc/subuid, /etc/subgid) and the checks on map lines that
/// rsandbox-idmap makes too, with the same words, so a refusal reads the same from either side.
public struct SubordinateIDs: Sendable {
    public enum Kind: String, Sendable { case uid, gid }

    /// The caller's entries, in file order.
    public var uids: [IDMap]
    public var gids: [IDMap]

    /// Reads /etc/subuid and /etc/subgid (under `root`, for tests) for `caller`: its entries by
    /// name or decimal uid. Entries with start 0 or past 2^32 are left out, as the helper does.
    public init(caller: Caller, root: String = "", userName: String? = nil) {
        let name = userName ?? caller.userName
        func ranges(_ file: String) -> [IDMap] {
            let text = SystemFile.read(root + file) ?? ""
            return HostProbe.subordinateRanges(text, user: name, uid: caller.uid).compactMap {
                $0.start == 0 || UInt64($0.start) + UInt64($0.count) > 4_294_967_295 ? nil
                    : IDMap(inside: 0, outside: $0.start, count: $0.count)
            }
        }
        uids = ranges("/etc/subuid")
        gids = ranges("/etc/subgid")
    }

    public init(uids: [IDMap], gids: [IDMap]) {
        self.uids = uids
        self.gids = gids
    }

    /// podman's auto map: own id → 0, then each subordinate range from 1 up.
    static func autoMap(own: UInt32, ranges: [IDMap]) -> [IDMap] {
        var out = [IDMap(inside: 0, outside: own)]
        var next: UInt64 = 1
        for r in ranges {
            let count = min(UInt64(r.count), 4_294_967_295 - next)
            if count == 0 { break }
            out.append(IDMap(inside: UInt32(next), outside: r.outside, count: UInt32(count)))
            next += count
        }
        return out
    }

    /// Refuses what the helper would refuse: counts, overflow, overlaps, outside 0, ranges the
    /// caller does not own. Root (who writes maps itself) is only held to the kernel's rules.
    static func check(_ lines: [IDMap], kind: Kind, own: UInt32, entries: [IDMap], root: Bool) throws(SandboxError) {
        let item = "\(kind.rawValue)-map"
        if lines.isEmpty { throw .spec(item, "needs at least one line") }
        if lines.count > 340 { throw .spec(item, "\(lines.count) map lines; the kernel takes at most 340") }
        for (i, l) in lines.enumerated() {
            let n = i + 1
            if l.count == 0 { throw .spec(item, "line \(n): count must be at least 1") }
            if UInt64(l.inside) + UInt64(l.count) > 4_294_967_295 || UInt64(l.outside) + UInt64(l.count) > 4_294_967_295 {
                throw .spec(item, "line \(n): the range passes the largest id, 4294967294")
            }
            for (j, o) in lines[..<i].enumerated() {
                if overlaps(l.inside, l.count, o.inside, o.count) { throw .spec(item, "line \(n): inside ids overlap line \(j + 1)") }
                if overlaps(l.outside, l.count, o.outside, o.count) { throw .spec(item, "line \(n): outside ids overlap line \(j + 1)") }
            }
            if root { continue }
            if l.outside == 0 { throw .spec(item, "line \(n): outside \(kind.rawValue) 0 (host root) is never mapped") }
            if l.outside == own && l.count == 1 { continue }
            if !covered(l, by: entries) {
                throw .spec(item, "line \(n): outside \(kind.rawValue)s \(l.outside)-\(UInt64(l.outside) + UInt64(l.count) - 1) are not yours (see /etc/sub\(kind.rawValue))",
                            hint: "`rsandbox doctor` lists your ranges")
            }
        }
    }

    static func overlaps(_ a: UInt32, _ an: UInt32, _ b: UInt32, _ bn: UInt32) -> Bool {
        UInt64(a) < UInt64(b) + UInt64(bn) && UInt64(b) < UInt64(a) + UInt64(an)
    }

    /// Inside one entry, or across entries that touch.
    static func covered(_ l: IDMap, by entries: [IDMap]) -> Bool {
        var pos = UInt64(l.outside)
        let end = pos + UInt64(l.count)
        var progress = true
        while progress && pos < end {
            progress = false
            for e in entries where UInt64(e.outside) <= pos && pos < UInt64(e.outside) + UInt64(e.count) {
                pos = UInt64(e.outside) + UInt64(e.count)
                progress = true
            }
        }
        return pos >= end
    }

    /// The inside id that `outside` maps to, if any.
    static func inside(of outside: UInt32, in lines: [IDMap]) -> UInt32? {
        lines.first { UInt64($0.outside) <= UInt64(outside) && UInt64(outside) < UInt64($0.outside) + UInt64($0.count) }
            .map { $0.inside + (outside - $0.outside) }
    }

    static func maps(_ inside: UInt32, in lines: [IDMap]) -> Bool {
        lines.contains { UInt64($0.inside) <= UInt64(inside) && UInt64(inside) < UInt64($0.inside) + UInt64($0.count) }
    }
}
