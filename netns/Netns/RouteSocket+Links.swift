import CNetlink
import Glibc

extension RouteSocket {
    /// Creates a bridge.
    public func createBridge(_ name: String) throws(NetnsError) {
        try Self.checkName(name, "create bridge")
        guard let link = rtnl_link_alloc() else { throw NetnsError(operation: "create bridge", object: name, errno: ENOMEM) }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        try check("create bridge", name) { rtnl_link_set_type(link, "bridge") }
        try check("create bridge", name) { rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL) }
    }

    /// Creates a veth pair in one request. With `peerNamespace` (a network-namespace fd) the
    /// peer is born inside that namespace (IFLA_NET_NS_FD), never moved there afterwards.
    public func createVeth(_ name: String, peer: String, peerNamespace: Int32? = nil) throws(NetnsError) {
        let object = "\(name)/\(peer)"
        try Self.checkName(name, "create veth")
        try Self.checkName(peer, "create veth")
        guard let link = rtnl_link_veth_alloc() else { throw NetnsError(operation: "create veth", object: object, errno: ENOMEM) }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        guard let p = rtnl_link_veth_get_peer(link) else { throw NetnsError(operation: "create veth", object: object, errno: ENOMEM) }
        defer { rtnl_link_put(p) }
        rtnl_link_set_name(p, peer)
        if let fd = peerNamespace { rtnl_link_set_ns_fd(p, fd) }
        try check("create veth", object) { rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL) }
    }

    /// Changes one link with what `edit` sets on an empty change object.
    private func change(_ name: String, _ operation: String, _ edit: (OpaquePointer) throws(NetnsError) -> Void) throws(NetnsError) {
        let orig = try fetch(name, for: operation)
        defer { rtnl_link_put(orig) }
        guard let c = rtnl_link_alloc() else { throw NetnsError(operation: operation, object: name, errno: ENOMEM) }
        defer { rtnl_link_put(c) }
        try edit(c)
        try check(operation, name) { rtnl_link_change(sock, orig, c, 0) }
    }

    /// Enslaves `name` to `master` (a bridge); nil frees it.
    public func setMaster(_ name: String, _ master: String?) throws(NetnsError) {
        var index: Int32 = 0
        if let master {
            let m = try fetch(master, for: "set master")
            index = rtnl_link_get_ifindex(m)
            rtnl_link_put(m)
        }
        try change(name, "set master") { c throws(NetnsError) in rtnl_link_set_master(c, index) }
    }

    /// Brings a link up or down.
    public func setUp(_ name: String, _ up: Bool) throws(NetnsError) {
        try change(name, up ? "set up" : "set down") { c throws(NetnsError) in
            if up { rtnl_link_set_flags(c, UInt32(IFF_UP.rawValue)) } else { rtnl_link_unset_flags(c, UInt32(IFF_UP.rawValue)) }
        }
    }

    /// Renames a link (it must be down).
    public func rename(_ name: String, to newName: String) throws(NetnsError) {
        try Self.checkName(newName, "rename")
        try change(name, "rename") { c throws(NetnsError) in rtnl_link_set_name(c, newName) }
    }

    /// Moves a link into the network namespace `namespaceFD` refers to.
    public func move(_ name: String, toNamespace namespaceFD: Int32) throws(NetnsError) {
        try change(name, "move to namespace") { c throws(NetnsError) in rtnl_link_set_ns_fd(c, namespaceFD) }
    }

    /// Deletes a link (for a veth, both ends).
    public func delete(_ name: String) throws(NetnsError) {
        try Self.checkName(name, "delete")
        guard let link = rtnl_link_alloc() else { throw NetnsError(operation: "delete", object: name, errno: ENOMEM) }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        try check("delete", name) { rtnl_link_delete(sock, link) }
    }

    /// Every link of this namespace, by index.
    public func links() throws(NetnsError) -> [Link] {
        var cache: OpaquePointer? = nil
        try check("list", "links") { rtnl_link_alloc_cache(sock, AF_UNSPEC, &cache) }
        guard let cache else { return [] }
        defer { nl_cache_free(cache) }
        var out: [Link] = []
        var obj = nl_cache_get_first(cache)
        while let o = obj {
            out.append(Self.link(o))
            obj = nl_cache_get_next(o)
        }
        return out.sorted { $0.index < $1.index }
    }

    /// The link named `name`.
    public func link(_ name: String) throws(NetnsError) -> Link {
        let l = try fetch(name, for: "look up")
        defer { rtnl_link_put(l) }
        return Self.link(l)
    }

    static func link(_ l: OpaquePointer) -> Link {
        var mac = ""
        if let a = rtnl_link_get_addr(l), nl_addr_get_len(a) > 0 {
            mac = IPPrefix.text(of: a)
        }
        return Link(index: rtnl_link_get_ifindex(l),
                    name: rtnl_link_get_name(l).map { String(cString: $0) } ?? "",
                    kind: rtnl_link_get_type(l).map { String(cString: $0) },
                    isUp: rtnl_link_get_flags(l) & UInt32(IFF_UP.rawValue) != 0,
                    masterIndex: rtnl_link_get_master(l),
                    mtu: rtnl_link_get_mtu(l),
                    macAddress: mac)
    }
}
