import Core
import Foundation
import HTTPTypes
import Hummingbird
import Testing
@testable import ELBv2

@Suite struct ActionTests {
    func request(_ path: String, query: String = "", host: String = "shop.test:8080", body: String = "") -> ProxyRequest {
        var headers = HTTPFields()
        headers[HTTPField.Name("Host")!] = host
        headers[.contentType] = "application/json"
        headers.append(HTTPField(name: HTTPField.Name("X-Multi")!, value: "1"))
        headers.append(HTTPField(name: HTTPField.Name("X-Multi")!, value: "2"))
        return ProxyRequest(method: .post, rawPath: path, rawQuery: query, headers: headers, body: RequestBody(buffer: ByteBuffer(string: body)),
                            sourceIP: "127.0.0.9", port: 8080)
    }

    @Test func redirectPlaceholders() {
        var a = Action(type: "redirect")
        a.redirectProtocol = "#{protocol}"
        a.redirectHost = "new.#{host}"
        a.redirectPort = "#{port}"
        a.redirectPath = "/v2/#{path}"
        a.redirectQuery = "#{query}&moved=1"
        a.redirectStatusCode = "HTTP_302"
        let r = request("/cart/items", query: "id=7")
        let facts = RequestFacts(method: "POST", path: "/cart/items", host: "shop.test:8080", headers: [], query: [], sourceIP: "127.0.0.9")
        let response = DataPlane.redirect(a, r, facts)
        #expect(response.status.code == 302)
        #expect(response.headers[.location] == "http://new.shop.test:8080/v2/cart/items?id=7&moved=1")
        // The protocol's default port is left out.
        a.redirectProtocol = "HTTPS"
        a.redirectPort = "443"
        #expect(DataPlane.redirect(a, r, facts).headers[.location] == "https://new.shop.test/v2/cart/items?id=7&moved=1")
    }

    @Test func albEventAndResponse() throws {
        let event = DataPlane.albEvent("arn:tg", request("/p", query: "a=1&a=2&b=x%20y"), body: Array("{\"k\":1}".utf8), multiValue: false)
        #expect((event["requestContext"] as? [String: [String: String]])?["elb"]?["targetGroupArn"] == "arn:tg")
        #expect(event["httpMethod"] as? String == "POST" && event["path"] as? String == "/p")
        #expect(event["queryStringParameters"] as? [String: String] == ["a": "2", "b": "x%20y"])
        #expect((event["headers"] as? [String: String])?["x-multi"] == "2")
        #expect(event["body"] as? String == "{\"k\":1}" && event["isBase64Encoded"] as? Bool == false)
        let multi = DataPlane.albEvent("arn:tg", request("/p", query: "a=1&a=2"), body: [0xff, 0x00], multiValue: true)
        #expect(multi["multiValueQueryStringParameters"] as? [String: [String]] == ["a": ["1", "2"]])
        #expect((multi["multiValueHeaders"] as? [String: [String]])?["x-multi"] == ["1", "2"])
        #expect(multi["isBase64Encoded"] as? Bool == true && multi["body"] as? String == "/wA=")

        let answer = try #require(DataPlane.albResponse(Array("""
            {"statusCode": 404, "statusDescription": "404 Not Here", "headers": {"X-A": "b"}, "body": "aGk=", "isBase64Encoded": true}
            """.utf8), multiValue: false))
        #expect(answer.status.code == 404 && answer.status.reasonPhrase == "Not Here" && answer.headers[HTTPField.Name("X-A")!] == "b")
        #expect(DataPlane.albResponse(Array("not json".utf8), multiValue: false) == nil)
        #expect(DataPlane.albResponse(Array("{\"statusCode\": 99}".utf8), multiValue: false) == nil)
    }
}
