import CNetlink
import Glibc

extension RouteSocket {
    /// Adds `prefix` ("10.0.0.2/24") to the link `name`.
    public func addAddress(_ prefix: IPPrefix, to name: String) throws(NetnsError) {
        try address(prefix, name, "add address") { a in rtnl_addr_add(sock, a, NLM_F_CREATE | NLM_F_EXCL) }
    }

    /// Removes `prefix` from the link `name`.
    public func removeAddress(_ prefix: IPPrefix, from name: String) throws(NetnsError) {
        try address(prefix, name, "remove address") { a in rtnl_addr_delete(sock, a, 0) }
    }

    private func address(_ prefix: IPPrefix, _ name: String, _ operation: String, _ send: (OpaquePointer) -> Int32) throws(NetnsError) {
        let object = "\(prefix) on \(name)"
        let l = try fetch(name, for: operation)
        let index = rtnl_link_get_ifindex(l)
        rtnl_link_put(l)
        guard let local = IPPrefix.parse(prefix.text) else { throw NetnsError(operation: operation, object: object, errno: EINVAL) }
        defer { nl_addr_put(local) }
        guard let a = rtnl_addr_alloc() else { throw NetnsError(operation: operation, object: object, errno: ENOMEM) }
        defer { rtnl_addr_put(a) }
        rtnl_addr_set_ifindex(a, index)
        try check(operation, object) { rtnl_addr_set_local(a, local) }
        try check(operation, object) { send(a) }
    }

    /// The addresses of the link `name`, as "address/prefixlen".
    public func addresses(of name: String) throws(NetnsError) -> [String] {
        let l = try fetch(name, for: "list addresses")
        let index = rtnl_link_get_ifindex(l)
        rtnl_link_put(l)
        var cache: OpaquePointer? = nil
        try check("list addresses", name) { rtnl_addr_alloc_cache(sock, &cache) }
        guard let cache else { return [] }
        defer { nl_cache_free(cache) }
        var out: [String] = []
        var obj = nl_cache_get_first(cache)
        while let o = obj {
            let a = o
            if rtnl_addr_get_ifindex(a) == index, let local = rtnl_addr_get_local(a) {
                out.append(IPPrefix.text(of: local))
            }
            obj = nl_cache_get_next(o)
        }
        return out
    }
}
