import Prometheus
import TallyKit

/// The front door's own figures, in Prometheus's text format: requests by route and status,
/// refused signatures, deliveries and their bytes, requests in flight, and how long a
/// delivery took to become durable.
///
/// `GET /metrics` serves them after the daemon's `data/metrics.prom` (when there is one), so
/// one scrape sees both.
public final class ReceiverMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let deliveries: Counter
    private let deliveredBytes: Counter
    private let badSignatures: Counter
    private let inFlight: Gauge
    private let durable: DurationHistogram

    public init() {
        deliveries = registry.makeCounter(descriptor: .init(
            namespace: "tally", subsystem: "receive", metricName: "deliveries", unitName: "total",
            helpText: "Deliveries written durably into the inbox (each answered 200)."))
        deliveredBytes = registry.makeCounter(descriptor: .init(
            namespace: "tally", subsystem: "receive", metricName: "delivered_body", unitName: "bytes_total",
            helpText: "Body bytes of the deliveries written."))
        badSignatures = registry.makeCounter(descriptor: .init(
            namespace: "tally", subsystem: "receive", metricName: "signature_failures", unitName: "total",
            helpText: "Deliveries refused with 401: a missing or wrong X-Kajabi-Signature."))
        inFlight = registry.makeGauge(descriptor: .init(
            namespace: "tally", subsystem: "receive", metricName: "requests_in_flight", unitName: "",
            helpText: "Requests being handled now."))
        durable = registry.makeDurationHistogram(
            descriptor: .init(namespace: "tally", subsystem: "receive", metricName: "delivery_duration", unitName: "seconds",
                              helpText: "From a delivery's arrival to its answer, for deliveries answered 200."),
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1)])
    }

    /// Counts one answered request.
    public func answered(route: String, status: Int) {
        registry.makeCounter(
            descriptor: .init(namespace: "tally", subsystem: "receive", metricName: "requests", unitName: "total",
                              helpText: "Requests answered, by route and status."),
            labels: [("route", route), ("status", String(status))]
        ).increment()
    }

    public func delivered(bytes: Int, after duration: Duration) {
        deliveries.increment()
        deliveredBytes.increment(by: Int64(bytes))
        durable.record(duration)
    }

    public func refusedSignature() { badSignatures.increment() }

    public func requestStarted() { inFlight.increment() }
    public func requestEnded() { inFlight.decrement() }

    /// The figures in Prometheus's text format.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
