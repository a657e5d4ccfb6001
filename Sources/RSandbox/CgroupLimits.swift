/// Resource limits, applied in a cgroup2 leaf of a delegated subtree (docs/limits.md).
public struct CgroupLimits: Codable, Sendable, Equatable {
    /// memory.max, bytes.
    public var memory: UInt64?
    /// memory.swap.max, bytes (0: no swap).
    public var memorySwap: UInt64?
    /// cpu.max as a number of CPUs (0.5 = half of one).
    public var cpus: Double?
    /// cpu.weight, 1…10000 (default 100).
    public var cpuWeight: UInt32?
    /// pids.max.
    public var pids: UInt32?
    /// io.weight, 1…10000 (default 100): the sandbox's share of each device under contention.
    public var ioWeight: UInt32?
    /// io.max, one entry per block device.
    public var ioMax: [IOMax]

    public init(memory: UInt64? = nil, memorySwap: UInt64? = nil, cpus: Double? = nil,
                cpuWeight: UInt32? = nil, pids: UInt32? = nil, ioWeight: UInt32? = nil, ioMax: [IOMax] = []) {
        self.memory = memory
        self.memorySwap = memorySwap
        self.cpus = cpus
        self.cpuWeight = cpuWeight
        self.pids = pids
        self.ioWeight = ioWeight
        self.ioMax = ioMax
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        memory = try c.decodeIfPresent(UInt64.self, forKey: .memory)
        memorySwap = try c.decodeIfPresent(UInt64.self, forKey: .memorySwap)
        cpus = try c.decodeIfPresent(Double.self, forKey: .cpus)
        cpuWeight = try c.decodeIfPresent(UInt32.self, forKey: .cpuWeight)
        pids = try c.decodeIfPresent(UInt32.self, forKey: .pids)
        ioWeight = try c.decodeIfPresent(UInt32.self, forKey: .ioWeight)
        ioMax = try c.decodeIfPresent([IOMax].self, forKey: .ioMax) ?? []
    }

    public var isEmpty: Bool { self == CgroupLimits() }

    /// The controllers these limits need, in subtree_control order.
    public var controllers: [String] {
        var c: [String] = []
        if memory != nil || memorySwap != nil { c.append("memory") }
        if cpus != nil || cpuWeight != nil { c.append("cpu") }
        if pids != nil { c.append("pids") }
        if ioWeight != nil || !ioMax.isEmpty { c.append("io") }
        return c
    }

    /// The files of a leaf and what goes in them.
    public var files: [(String, String)] {
        var f: [(String, String)] = []
        if let memory { f.append(("memory.max", String(memory))) }
        if let memorySwap { f.append(("memory.swap.max", String(memorySwap))) }
        if let cpus {
            let period = 100_000
            f.append(("cpu.max", "\(max(1000, Int((cpus * Double(period)).rounded()))) \(period)"))
        }
        if let cpuWeight { f.append(("cpu.weight", String(cpuWeight))) }
        if let pids { f.append(("pids.max", String(pids))) }
        if let ioWeight { f.append(("io.weight", "default \(ioWeight)")) }
        for m in ioMax { f.append(("io.max", m.line)) }
        return f
    }

    func validate() throws(SandboxError) {
        if let memory, memory < 1 << 20 {
            throw .spec("memory \(memory)", "must be at least 1M (the kernel would kill the sandbox before it starts)")
        }
        if let cpus, !(cpus > 0 && cpus <= 4096) || cpus.isNaN {
            throw .spec("cpus \(cpus)", "must be greater than 0 (e.g. 0.5 for half a CPU)")
        }
        if let cpuWeight, !(1...10000).contains(cpuWeight) {
            throw .spec("cpu-weight \(cpuWeight)", "must be between 1 and 10000")
        }
        if let pids, pids == 0 {
            throw .spec("pids 0", "must be at least 1")
        }
        if let ioWeight, !(1...10000).contains(ioWeight) {
            throw .spec("io-weight \(ioWeight)", "must be between 1 and 10000")
        }
        var seen: [(UInt32, UInt32)] = []
        for m in ioMax {
            try m.validate()
            if seen.contains(where: { $0 == (m.major, m.minor) }) {
                throw .spec("io-max \(m.device)", "the device is given twice")
            }
            seen.append((m.major, m.minor))
        }
    }
}
