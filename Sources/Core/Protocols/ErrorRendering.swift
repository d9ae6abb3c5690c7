import HTTPTypes
import NIOCore

/// AWS errors in each wire format. Written once here; services only throw `AWSError`.
public enum ErrorRendering {
    /// REST-XML (S3): `<Error><Code/><Message/>...details...<RequestId/><HostId/></Error>`; HEAD answers carry no body.
    public static func restXML(_ error: AWSError, requestID: String, isHead: Bool) -> AWSResponse {
        var headers = HTTPFields()
        for (k, v) in error.headers { headers.set(k, v) }
        if isHead || error.status == .notModified { return AWSResponse(status: error.status, headers: headers) }
        var xml = XMLWriter()
        xml.open("Error")
        xml.element("Code", error.code)
        xml.element("Message", error.message)
        for (k, v) in error.details { xml.element(k, v) }
        xml.element("RequestId", requestID)
        xml.element("HostId", RequestID.hostID(for: requestID))
        xml.close()
        return AWSResponse(status: error.status, headers: headers, xml: xml)
    }

    /// Query protocol (STS, IAM, SQS Query): `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
    /// The code is the legacy Query one where the error has it (`AWS.SimpleQueueService.NonExistentQueue`).
    public static func query(_ error: AWSError, requestID: String, xmlns: String?) -> AWSResponse {
        var headers = HTTPFields()
        for (k, v) in error.headers { headers.set(k, v) }
        var xml = XMLWriter()
        xml.open("ErrorResponse", xmlns: xmlns)
        xml.open("Error")
        xml.element("Type", error.isSenderFault ? "Sender" : "Receiver")
        xml.element("Code", error.queryCode ?? error.code)
        xml.element("Message", error.message)
        for (k, v) in error.details { xml.element(k, v) }
        xml.close()
        xml.element("RequestId", requestID)
        xml.close()
        var response = AWSResponse(status: error.status, headers: headers, xml: xml)
        response.headers[.contentType] = "text/xml"
        return response
    }

    /// JSON 1.0 / 1.1 and REST-JSON: `{"__type": "...", "message": "..."}` with `x-amzn-ErrorType`.
    public static func json(_ error: AWSError, requestID: String, typePrefix: String?, contentType: String,
                            messageKey: String = "message", typeInBody: Bool = true) -> AWSResponse {
        var headers = HTTPFields()
        for (k, v) in error.headers { headers.set(k, v) }
        // The header carries the same shape id as `__type` (`com.amazonaws.sqs#QueueDoesNotExist`), as AWS sends it.
        let type = typePrefix.map { $0 + error.code } ?? error.code
        headers.set("x-amzn-ErrorType", type)
        headers[.contentType] = contentType
        if let legacy = error.queryCode {
            headers.set("x-amzn-query-error", "\(legacy);\(error.isSenderFault ? "Sender" : "Receiver")")
        }
        var body = "{"
        if typeInBody { body += "\"__type\":\(JSONString.quote(type))," }
        body += "\(JSONString.quote(messageKey)):\(JSONString.quote(error.message))"
        for (k, v) in error.details { body += ",\(JSONString.quote(k)):\(JSONString.quote(v))" }
        body += "}"
        return AWSResponse(status: error.status, headers: headers, bytes: ByteBuffer(string: body))
    }
}

public enum JSONString {
    /// A JSON string literal with the escapes JSON requires.
    public static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
