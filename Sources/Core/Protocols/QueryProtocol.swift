import NIOCore

/// The AWS Query protocol: `Action=...&Version=...` as a form body or URL query, XML answers
/// wrapped in `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>`.
public enum QueryProtocol {
    /// The parameters of a Query request: URL query items, then the form body's.
    public static func parameters(_ request: AWSRequest, limit: Int = 1 << 20) async throws -> [String: String] {
        var params: [String: String] = [:]
        for (k, v) in request.query { params[k] = v }
        if request.method == .post {
            let body = try await request.collectBody(limit: limit)
            let text = String(buffer: body)
            guard let items = Percent.parseQuery(text, plusIsSpace: true) else {
                throw AWSError("MalformedQueryString", "The query string is malformed.")
            }
            for (k, v) in items { params[k] = v }
        }
        if let report = request.operationReport, let action = params["Action"] { report.report(action) }
        return params
    }

    /// The response envelope for `action`, with `result` writing the inside of `<ActionResult>`; an operation
    /// without output (`result` nil) answers only `<ResponseMetadata>`. Query services answer `text/xml`.
    public static func response(action: String, xmlns: String, requestID: String, result: ((inout XMLWriter) -> Void)?) -> AWSResponse {
        var xml = XMLWriter()
        xml.open("\(action)Response", xmlns: xmlns)
        if let result {
            xml.open("\(action)Result")
            result(&xml)
            xml.close()
        }
        xml.open("ResponseMetadata")
        xml.element("RequestId", requestID)
        xml.close()
        xml.close()
        var response = AWSResponse(xml: xml)
        response.headers[.contentType] = "text/xml"
        return response
    }
}
