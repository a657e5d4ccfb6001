import CRSandbox

/// Capability names and masks (libcap's names, read in the parent). A sandbox's command keeps
/// only the capabilities its spec lists, and only within its own user namespace.
public enum Capabilities {
    /// The highest capability number this kernel knows.
    public static let last: Int32 = Int32(rs_cap_last())

    /// "CAP_NET_ADMIN", "net_admin" or "cap_net_admin" → 12; nil for an unknown name.
    public static func number(_ name: String) -> Int32? {
        var lower = name.lowercased()
        if !lower.hasPrefix("cap_") { lower = "cap_" + lower }
        guard lower.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }) else { return nil }
        let n = rs_cap_from_name(lower)
        return n >= 0 && n <= last && n < 64 ? n : nil
    }

    /// The canonical spelling: "net_admin" → "CAP_NET_ADMIN" (nil for an unknown name).
    public static func canonical(_ name: String) -> String? {
        guard number(name) != nil else { return nil }
        let upper = name.uppercased()
        return upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
    }

    /// Every capability the kernel knows, by name ("CAP_CHOWN"), in number order.
    public static var all: [String] {
        (0...min(last, 63)).map(name)
    }

    /// libcap's name of capability n, as "CAP_CHOWN".
    public static func name(_ n: Int32) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        rs_cap_name(n, &buf, UInt(buf.count))
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).uppercased()
    }

    /// The mask of `names` (bit n = capability n). Names were checked by `validate()`.
    static func mask(_ names: [String]) -> UInt64 {
        names.reduce(UInt64(0)) { m, name in number(name).map { m | (1 << UInt64($0)) } ?? m }
    }
}
