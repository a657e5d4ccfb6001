import ArgumentParser
import Testing
@testable import rsandbox

/// The fast path and ArgumentParser must read `rsandbox run` arguments the same way.
@Suite struct FastRunParserTests {
    static let samples: [[String]] = [
        ["--", "true"],
        ["true"],
        ["--unshare-all", "--share-net", "--", "sh", "-c", "echo hi"],
        ["--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup", "--", "id"],
        ["--share-pid", "--share-user", "--as-pid-1", "--clearenv", "--", "env"],
        ["--uid", "0", "--gid", "0", "--hostname", "box", "--chdir", "/tmp", "--", "pwd"],
        ["--uid=0", "--hostname=box", "--", "pwd"],
        ["--setenv", "A=1", "--setenv", "B=2=3", "--unsetenv", "HOME", "--", "env"],
        ["--pass-fd", "3", "--pass-fd", "4:9", "--timeout", "1.5", "--json-status", "/tmp/s.json", "--", "true"],
        ["--no-die-with-parent", "--", "true"],
        ["--no-die-with-parent", "--die-with-parent", "--", "true"],
        ["--timeout", "1", "--timeout", "2", "--", "sleep", "1"],
        ["echo", "a", "b"],
    ]

    @Test(arguments: samples)
    func fastPathMatchesArgumentParser(_ args: [String]) throws {
        let fast = try #require(FastRunParser.parse(args[...]), "the fast path should take \(args)")
        let slow = try Run.parse(args)
        #expect(fast == slow.options)
    }

    /// Anything the fast path does not fully understand goes to ArgumentParser.
    @Test(arguments: [
        ["--help"], ["-h"], ["--bogus", "--", "true"], ["--uid", "x", "--", "true"], ["--uid"],
        ["--", ], [], ["sh", "-c", "x"], ["--unshare-all=1", "--", "true"], ["--timeout", "--", "x"],
    ])
    func fastPathDefersWhatItDoesNotKnow(_ args: [String]) {
        #expect(FastRunParser.parse(args[...]) == nil)
    }

    @Test func fastPathKnowsEveryFlagInHelp() {
        let help = Run.helpMessage(columns: 200)
        var names: Set<String> = []
        for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "/" }) {
            let w = String(word.prefix { $0.isLetter || $0.isNumber || $0 == "-" })
            if w.hasPrefix("--"), w.count > 2 { names.insert(w) }
        }
        names.remove("--help")
        #expect(!names.isEmpty)
        #expect(names.subtracting(FastRunParser.knownNames).isEmpty, "help lists \(names.subtracting(FastRunParser.knownNames))")
        #expect(FastRunParser.knownNames.subtracting(names).isEmpty, "unknown to help: \(FastRunParser.knownNames.subtracting(names))")
    }

    @Test func durationsParse() {
        #expect(DurationParser.parse("30") == .seconds(30))
        #expect(DurationParser.parse("1.5") == .milliseconds(1500))
        #expect(DurationParser.parse("500ms") == .milliseconds(500))
        #expect(DurationParser.parse("2m") == .seconds(120))
        #expect(DurationParser.parse("1h") == .seconds(3600))
        for bad in ["", "soon", "-1", "0", "1e3", "5d", "ms", " 1"] {
            #expect(DurationParser.parse(bad) == nil, "\(bad)")
        }
    }
}
