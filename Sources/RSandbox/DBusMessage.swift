/// The few D-Bus messages rsandbox exchanges with systemd's user manager, in the wire format of
/// the D-Bus specification (little-endian only: the manager runs on this machine). Just enough
/// to call StartTransientUnit and read its reply, an error, and the JobRemoved signal — libsystemd
/// (sd-bus) would do it, but ships no static library to link into our static executable.
struct DBusMessage: Equatable {
    enum Kind: UInt8 {
        case methodCall = 1, methodReturn = 2, error = 3, signal = 4
    }

    /// A value of the few types these messages carry.
    indirect enum Value: Equatable {
        case string(String)
        case objectPath(String)
        case uint32(UInt32)
        case bool(Bool)
        case uint32Array([UInt32])
        /// `a(sv)`: property name and value.
        case properties([(String, Value)])
        /// `a(sa(sv))` with no elements (StartTransientUnit's auxiliary units).
        case emptyAuxUnits

        var signature: String {
            switch self {
            case .string: "s"
            case .objectPath: "o"
            case .uint32: "u"
            case .bool: "b"
            case .uint32Array: "au"
            case .properties: "a(sv)"
            case .emptyAuxUnits: "a(sa(sv))"
            }
        }

        static func == (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case let (.string(x), .string(y)), let (.objectPath(x), .objectPath(y)): x == y
            case let (.uint32(x), .uint32(y)): x == y
            case let (.bool(x), .bool(y)): x == y
            case let (.uint32Array(x), .uint32Array(y)): x == y
            case let (.properties(x), .properties(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            case (.emptyAuxUnits, .emptyAuxUnits): true
            default: false
            }
        }
    }

    var kind: Kind
    var serial: UInt32
    var path: String? = nil
    var interface: String? = nil
    var member: String? = nil
    var errorName: String? = nil
    var replySerial: UInt32? = nil
    var destination: String? = nil
    /// The body's signature as it came (for received messages) or as `body` spells it.
    var signature: String = ""
    var body: [Value] = []

    /// A method call; the signature is the body's.
    static func call(serial: UInt32, destination: String, path: String, interface: String, member: String,
                     body: [Value]) -> DBusMessage {
        DBusMessage(kind: .methodCall, serial: serial, path: path, interface: interface, member: member,
                    destination: destination, signature: body.map(\.signature).joined(), body: body)
    }

    // MARK: Encoding

    /// The message on the wire.
    func encoded() -> [UInt8] {
        var b = DBusWriter()
        for v in body { b.write(v) }
        var h = DBusWriter()
        h.byte(UInt8(ascii: "l"))
        h.byte(kind.rawValue)
        h.byte(0)   // flags
        h.byte(1)   // protocol version
        h.uint32(UInt32(b.bytes.count))
        h.uint32(serial)
        h.array(elementAlignment: 8) { h in
            func field(_ code: UInt8, _ sig: String, _ value: Value) {
                h.align(8)
                h.byte(code)
                h.signature(sig)
                h.write(value)
            }
            if let path { field(1, "o", .objectPath(path)) }
            if let interface { field(2, "s", .string(interface)) }
            if let member { field(3, "s", .string(member)) }
            if let errorName { field(4, "s", .string(errorName)) }
            if let replySerial { field(5, "u", .uint32(replySerial)) }
            if let destination { field(6, "s", .string(destination)) }
            if !signature.isEmpty {
                h.align(8)
                h.byte(8)
                h.signature("g")
                h.signature(signature)
            }
        }
        h.align(8)
        return h.bytes + b.bytes
    }

    // MARK: Decoding

    enum DecodeError: Error, Equatable {
        /// More bytes are needed for a whole message.
        case incomplete
        case malformed(String)
    }

    /// The first whole message in `bytes` and its length on the wire. Bodies are decoded for
    /// the signatures rsandbox reads ("", "s", "o", "uoss"); others are kept as raw length only.
    static func decode(_ bytes: ArraySlice<UInt8>) throws(DecodeError) -> (DBusMessage, Int) {
        guard bytes.count >= 16 else { throw .incomplete }
        var r = DBusReader(bytes: Array(bytes.prefix(16)))
        guard try r.byte() == UInt8(ascii: "l") else { throw .malformed("not little-endian") }
        guard let kind = Kind(rawValue: try r.byte()) else { throw .malformed("message type") }
        _ = try r.byte()
        guard try r.byte() == 1 else { throw .malformed("protocol version") }
        let bodyLength = Int(try r.uint32())
        let serial = try r.uint32()
        let fieldsLength = Int(try r.uint32())
        guard bodyLength <= 1 << 27, fieldsLength <= 1 << 26 else { throw .malformed("length") }
        let headerLength = (16 + fieldsLength + 7) & ~7
        let total = headerLength + bodyLength
        guard bytes.count >= total else { throw .incomplete }
        let all = Array(bytes.prefix(total))
        var m = DBusMessage(kind: kind, serial: serial)
        r = DBusReader(bytes: Array(all[0..<(16 + fieldsLength)]), offset: 16)
        while r.offset < 16 + fieldsLength {
            try r.align(8)
            let code = try r.byte()
            let sig = try r.signature()
            switch (code, sig) {
            case (1, "o"): m.path = try r.string()
            case (2, "s"): m.interface = try r.string()
            case (3, "s"): m.member = try r.string()
            case (4, "s"): m.errorName = try r.string()
            case (5, "u"): m.replySerial = try r.uint32()
            case (6, "s"): m.destination = try r.string()
            case (7, "s"): _ = try r.string()   // sender
            case (8, "g"): m.signature = try r.signature()
            case (9, "u"): _ = try r.uint32()   // unix fds
            default: throw .malformed("header field \(code) of type \(sig)")
            }
        }
        var body = DBusReader(bytes: Array(all[headerLength...]))
        switch m.signature {
        case "": break
        case "s": m.body = [.string(try body.string())]
        case "o": m.body = [.objectPath(try body.string())]
        case "uoss": m.body = [.uint32(try body.uint32()), .objectPath(try body.string()),
                               .string(try body.string()), .string(try body.string())]
        default: break
        }
        return (m, total)
    }
}

/// Appends values with D-Bus alignment (offsets count from the start of the writer, which is
/// 8-aligned in the message: the header and the body both start on an 8-byte boundary).
struct DBusWriter {
    var bytes: [UInt8] = []

    mutating func align(_ n: Int) {
        while bytes.count % n != 0 { bytes.append(0) }
    }

    mutating func byte(_ v: UInt8) { bytes.append(v) }

    mutating func uint32(_ v: UInt32) {
        align(4)
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ s: String) {
        uint32(UInt32(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
        bytes.append(0)
    }

    mutating func signature(_ s: String) {
        bytes.append(UInt8(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
        bytes.append(0)
    }

    /// An array: its byte length, padding to the first element (even when empty), elements.
    mutating func array(elementAlignment: Int, _ elements: (inout DBusWriter) -> Void) {
        align(4)
        let lengthAt = bytes.count
        uint32(0)
        align(elementAlignment)
        let start = bytes.count
        elements(&self)
        let length = UInt32(bytes.count - start)
        withUnsafeBytes(of: length.littleEndian) { bytes.replaceSubrange(lengthAt..<lengthAt + 4, with: $0) }
    }

    mutating func write(_ v: DBusMessage.Value) {
        switch v {
        case let .string(s), let .objectPath(s): string(s)
        case let .uint32(n): uint32(n)
        case let .bool(b): uint32(b ? 1 : 0)
        case let .uint32Array(a): array(elementAlignment: 4) { w in for n in a { w.uint32(n) } }
        case let .properties(p):
            array(elementAlignment: 8) { w in
                for (name, value) in p {
                    w.align(8)
                    w.string(name)
                    w.signature(value.signature)
                    w.write(value)
                }
            }
        case .emptyAuxUnits: array(elementAlignment: 8) { _ in }
        }
    }
}

/// Reads values with D-Bus alignment; every read is bounds-checked.
struct DBusReader {
    var bytes: [UInt8]
    var offset = 0

    mutating func align(_ n: Int) throws(DBusMessage.DecodeError) {
        let next = (offset + n - 1) / n * n
        guard next <= bytes.count else { throw .malformed("padding past the end") }
        offset = next
    }

    mutating func byte() throws(DBusMessage.DecodeError) -> UInt8 {
        guard offset < bytes.count else { throw .malformed("truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint32() throws(DBusMessage.DecodeError) -> UInt32 {
        try align(4)
        guard offset + 4 <= bytes.count else { throw .malformed("truncated") }
        defer { offset += 4 }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    mutating func string() throws(DBusMessage.DecodeError) -> String {
        let n = Int(try uint32())
        guard n < bytes.count - offset, bytes[offset + n] == 0 else { throw .malformed("string") }
        defer { offset += n + 1 }
        return String(decoding: bytes[offset..<offset + n], as: UTF8.self)
    }

    mutating func signature() throws(DBusMessage.DecodeError) -> String {
        let n = Int(try byte())
        guard n < bytes.count - offset, bytes[offset + n] == 0 else { throw .malformed("signature") }
        defer { offset += n + 1 }
        return String(decoding: bytes[offset..<offset + n], as: UTF8.self)
    }
}
