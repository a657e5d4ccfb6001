import CNetlink
import Glibc

extension RouteSocket {
    /// Adds a route to `destination` ("default", "10.1.0.0/16") through `gateway` (nil: on-link)
    /// out of the link `name`, in the main table.
    public func addRoute(_ destination: IPPrefix, via gateway: IPPrefix?, dev name: String) throws(NetnsError) {
        try route(destination, gateway, name, "add route") { r in rtnl_route_add(sock, r, NLM_F_CREATE | NLM_F_EXCL) }
    }

    /// Removes the route that `addRoute` with the same arguments added.
    public func removeRoute(_ destination: IPPrefix, via gateway: IPPrefix?, dev name: String) throws(NetnsError) {
        try route(destination, gateway, name, "remove route") { r in rtnl_route_delete(sock, r, 0) }
    }

    private func route(_ destination: IPPrefix, _ gateway: IPPrefix?, _ name: String, _ operation: String,
                       _ send: (OpaquePointer) -> Int32) throws(NetnsError) {
        let object = "\(destination)\(gateway.map { " via \($0)" } ?? "") dev \(name)"
        let l = try fetch(name, for: operation)
        let index = rtnl_link_get_ifindex(l)
        rtnl_link_put(l)
        let family = gateway?.family ?? destination.family
        guard let dst = IPPrefix.parse(destination.text, family: family) else {
            throw NetnsError(operation: operation, object: object, errno: EINVAL)
        }
        defer { nl_addr_put(dst) }
        guard let r = rtnl_route_alloc(), let nh = rtnl_route_nh_alloc() else {
            throw NetnsError(operation: operation, object: object, errno: ENOMEM)
        }
        defer { rtnl_route_put(r) }
        rtnl_route_set_table(r, RT_TABLE_MAIN.rawValue)
        try check(operation, object) { rtnl_route_set_family(r, UInt8(family)) }
        try check(operation, object) { rtnl_route_set_dst(r, dst) }
        rtnl_route_nh_set_ifindex(nh, index)
        if let gateway {
            guard let gw = IPPrefix.parse(gateway.text, family: family) else {
                rtnl_route_nh_free(nh)
                throw NetnsError(operation: operation, object: object, errno: EINVAL)
            }
            rtnl_route_nh_set_gateway(nh, gw)
            nl_addr_put(gw)
        }
        rtnl_route_add_nexthop(r, nh) // the route owns nh from here
        try check(operation, object) { send(r) }
    }
}
