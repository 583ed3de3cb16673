#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd how the daemon is doing, as `sd_notify(3)` does, without linking libsystemd.
///
/// With `Type=notify`, systemd waits for `READY=1` before it counts the service as started;
/// Tally sends it once the catch-up is done, so `systemctl start` returns when the inbox is
/// really being watched. Without `NOTIFY_SOCKET` (not under systemd) this does nothing, and
/// a failure never stops the daemon.
public enum SystemdNotifier {
    /// Sends `state` (e.g. `READY=1`, `STOPPING=1`, `STATUS=...`) as one datagram to the socket
    /// named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). Returns whether
    /// it was sent. The corresponding C functions are `socket`, `sendto`.
    @discardableResult
    public static func notify(_ state: String, socketPath: String? = nil) -> Bool {
        let path = socketPath ?? getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        guard let path, !path.isEmpty else { return false }
        var pathBytes = Array(path.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }   // abstract namespace
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in pathBytes.enumerated() { raw[index] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
        return sent == message.count
    }
}
