import Testing
@testable import RSandbox

/// `--publish` values and what pasta is told.
@Suite struct PortForwardTests {
    @Test func specsParse() throws {
        #expect(try PortForward(parsing: "8080:80") == PortForward(hostPort: 8080, sandboxPort: 80))
        #expect(try PortForward(parsing: "127.0.0.1:8080:80/tcp") == PortForward(hostAddress: "127.0.0.1", hostPort: 8080, sandboxPort: 80))
        #expect(try PortForward(parsing: "[::1]:5353:53/udp") == PortForward(hostAddress: "::1", hostPort: 5353, sandboxPort: 53, transport: .udp))
        #expect(try PortForward(parsing: "65535:1/udp") == PortForward(hostPort: 65535, sandboxPort: 1, transport: .udp))
        #expect(try PortForward(parsing: "[::1]:5353:53/udp").description == "[::1]:5353:53/udp")
    }

    @Test(arguments: ["", "80", "a:b", "1:2:3:4", "0:1", "1:0", "65536:1", "1:99999999999", "01.2.3.4:1:2", "1.2.3.4:1:2/", "1:2/TCP",
                      "1:2/tcp/udp", "[::1]1:2", "[]:1:2", "[fe80::1%eth0]:1:2", "example.com:1:2", " 1:2", "1:2 ", "-1:2"])
    func badSpecsAreRefused(_ spec: String) {
        #expect(throws: SandboxError.self, "\(spec)") { try PortForward(parsing: spec) }
    }

    /// Outbound only unless asked: pasta's `auto` would forward, both ways, every port anyone
    /// listens on, so every direction is spelled out.
    @Test func pastaForwardsNothingButThePublishedPorts() throws {
        let none = Pasta.arguments(path: "/usr/bin/pasta", pid: 42, pidFile: "/p", forwards: [])
        #expect(none == ["/usr/bin/pasta", "--foreground", "--config-net", "--quiet", "--netns", "/proc/42/ns/net",
                         "--userns", "/proc/42/ns/user", "--pid", "/p", "-t", "none", "-u", "none", "-T", "none", "-U", "none"])
        let some = Pasta.arguments(path: "/usr/bin/pasta", pid: 42, pidFile: "/p", forwards: [
            try PortForward(parsing: "127.0.0.1:8080:80"), try PortForward(parsing: "[::1]:5353:53/udp"), try PortForward(parsing: "9000:9001"),
        ])
        #expect(Array(some.dropFirst(10)) == ["-t", "127.0.0.1/8080:80", "-t", "9000:9001", "-u", "::1/5353:53", "-T", "none", "-U", "none"])
    }

    @Test func validationChecksForwardsBuiltInCode() {
        var spec = SandboxSpec(argv: ["true"], network: .user(forwards: [PortForward(hostAddress: "nowhere", hostPort: 1, sandboxPort: 2)]))
        spec.namespaces.net = true
        #expect(throws: SandboxError(stage: .spec, item: "publish \"nowhere:1:2/tcp\"", reason: "host address \"nowhere\" is not an IPv4 or IPv6 address")) {
            try spec.validate()
        }
        spec.network = .user(forwards: [PortForward(hostPort: 0, sandboxPort: 2)])
        #expect(throws: SandboxError(stage: .spec, item: "publish \"0:2/tcp\"", reason: "ports are 1-65535")) { try spec.validate() }
    }
}
