// libFuzzer entry for the JSON parser and the payload shape detection: any bytes must be
// parsed or refused with a reason; a parsed value must survive serialise-and-parse again.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let again = try? JSONParser.parse(value.serialized())
    precondition(again == value, "a value does not survive serialize/parse")
    let source = EventSource(file: "fuzz.json", sha256: "", row: 1)
    _ = try? KajabiPayload.events(in: value, source: source, settings: .init(), fallbackTime: Timestamp(milliseconds: 0))
    _ = CapturedRequest(json: value)
    return 0
}
