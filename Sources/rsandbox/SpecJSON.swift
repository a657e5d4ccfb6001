import FoundationEssentials
import RSandbox

/// `--print-spec`: the spec as pretty JSON. FoundationEssentials is linked anyway (through
/// ArgumentParser); only this path pays for it.
enum SpecJSON {
    static func encode(_ spec: SandboxSpec) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(spec) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
