import Foundation

/// A small HTTP/1.1 client over a real TCP socket, one request per connection, so that a test
/// can also do what well-behaved clients never do: stop halfway, send a byte at a time, lie
/// about its length.
struct HTTPClient {
    let port: Int

    struct Response {
        var status: Int
        var headers: [String: String]   // lowercased names
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum Failure: Error { case connect(Int32), closedBeforeAnswer, malformed(String) }

    /// One open connection.
    final class Connection {
        let fd: Int32

        init(port: Int, timeout: Double) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                let code = errno
                close(fd)
                throw Failure.connect(code)
            }
            var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        /// Sends bytes; false when the server has closed its side.
        @discardableResult
        func send(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }

        @discardableResult
        func send(_ text: String) -> Bool { send(Array(text.utf8)) }

        /// Reads until the server closes the connection or the receive timeout passes; nil
        /// on a timeout with nothing read, else what came.
        func readToClose() -> (bytes: [UInt8], closed: Bool) {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count > 0 { bytes += buffer[..<count]; continue }
                return (bytes, count == 0 || errno == ECONNRESET)
            }
        }

        /// Reads one response: head, then a body of Content-Length bytes.
        func readResponse() throws -> Response {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            let separator: [UInt8] = [13, 10, 13, 10]
            while true {
                if let end = bytes.firstRange(of: separator) {
                    let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
                    let statusParts = head[0].split(separator: " ")
                    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure.malformed(head[0]) }
                    var headers: [String: String] = [:]
                    for line in head.dropFirst() {
                        guard let colon = line.firstIndex(of: ":") else { continue }
                        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    }
                    let length = Int(headers["content-length"] ?? "0") ?? 0
                    var body = Array(bytes[end.upperBound...])
                    while body.count < length {
                        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                        guard count > 0 else { throw Failure.closedBeforeAnswer }
                        body += buffer[..<count]
                    }
                    return Response(status: status, headers: headers, body: Array(body.prefix(length)))
                }
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { throw Failure.closedBeforeAnswer }
                bytes += buffer[..<count]
            }
        }
    }

    func connect(timeout: Double = 30) throws -> Connection { try Connection(port: port, timeout: timeout) }

    /// The head of a request, with `Content-Length` unless `headers` say otherwise.
    static func head(_ method: String, _ path: String, headers: [(String, String)], length: Int?, keepAlive: Bool = false) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (keepAlive ? "" : "Connection: close\r\n")
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let length { text += "Content-Length: \(length)\r\n" }
        return text + "\r\n"
    }

    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> Response {
        let connection = try connect()
        connection.send(Self.head(method, path, headers: headers, length: method == "GET" ? nil : body.count))
        connection.send(body)
        return try connection.readResponse()
    }

    func post(_ path: String, _ body: [UInt8], headers: [(String, String)] = []) throws -> Response {
        try request("POST", path, headers: [("Content-Type", "application/json")] + headers, body: body)
    }

    func get(_ path: String) throws -> Response { try request("GET", path) }
}

/// The hex HMAC-SHA256 of `body` under `secret`, as a relay signs a delivery (computed by
/// `openssl`, a producer independent of Tally's own code).
func hmacHex(_ body: [UInt8], secret: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = ["dgst", "-sha256", "-hmac", secret, "-r"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(body))
    try input.fileHandleForWriting.close()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return String(text.prefix(while: { !$0.isWhitespace }))
}
