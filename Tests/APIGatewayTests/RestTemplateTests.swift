@testable import APIGateway
import Foundation
import Testing

func sampleInvoke(body: String = "", query: [(String, String)] = [], headers: [(String, String)] = []) -> InvokeRequest {
    InvokeRequest(apiID: "abcdefghij", account: "000000000000", region: "us-east-1", stage: "prod", requestID: "req-1",
                  extendedRequestID: "ext", httpMethod: "POST", path: "/pets/7", resourcePath: "/pets/{id}", resourceID: "res123",
                  domainName: "abcdefghij.execute-api.localhost", sourceIP: "127.0.0.1", userAgent: "test", headers: headers,
                  query: query, pathParameters: ["id": "7"], stageVariables: ["env": "test"], body: Array(body.utf8),
                  contentType: "application/json", authorizer: nil, requestTimeEpoch: 1_700_000_000_000)
}

private func render(_ t: String, body: String = "", query: [(String, String)] = [], headers: [(String, String)] = []) -> String {
    RestTemplate.render(t, .init(invoke: sampleInvoke(body: body, query: query, headers: headers), body: Array(body.utf8)))
}

@Test func inputJsonPathBodyAndParams() {
    let body = #"{"name":"rex","tags":["a","b"],"owner":{"id":3}}"#
    #expect(render("$input.json('$')", body: body).contains("\"rex\""))
    #expect(render("$input.json('$.tags')", body: body) == #"["a","b"]"#)
    #expect(render("$input.path('$.owner.id')", body: body) == "3")
    #expect(render("$input.path('$.tags[1]')", body: body) == "b")
    #expect(render("$input.body", body: body) == body)
    #expect(render("$input.params('id')/$input.params('q')/$input.params('X-Tag')", query: [("q", "z")], headers: [("X-Tag", "t")]) == "7/z/t")
    #expect(render("$input.params().path.id") == "7")
}

@Test func utilFunctions() {
    #expect(render("$util.escapeJavaScript($input.body)", body: "a\"b'c\n") == #"a\"b\'c\n"#)
    #expect(render("$util.base64Encode('hi')") == "aGk=")
    #expect(render("$util.base64Decode('aGk=')") == "hi")
    #expect(render("$util.urlEncode('a b&c')") == "a+b%26c")
    #expect(render("$util.urlDecode('a+b%26c')") == "a b&c")
}

@Test func contextAndStageVariables() {
    #expect(render("$context.stage $context.requestId $context.resourcePath $context.identity.sourceIp") == "prod req-1 /pets/{id} 127.0.0.1")
    #expect(render("${stageVariables.env}-$stageVariables.env") == "test-test")
    #expect(render("$!missing.thing") == "")
    #expect(render("$missing") == "$missing")
}

@Test func directives() {
    let t = """
    #set($n = $input.path('$.n'))
    #if($n > 2)big#elseif($n == 2)two#{else}small#end
    """
    #expect(render(t, body: #"{"n":3}"#) == "big")
    #expect(render(t, body: #"{"n":2}"#) == "two")
    #expect(render(t, body: #"{"n":1}"#) == "small")
    let loop = ##"[#foreach($t in $input.path('$.tags'))"$t"#if($foreach.hasNext),#end#end]"##
    #expect(render(loop, body: #"{"tags":["x","y","z"]}"#) == #"["x","y","z"]"#)
    #expect(render(#"#set($m = "id-$input.params('id')")$m"#) == "id-7")
    #expect(render("#if(!$input.params('none').isEmpty())set#{else}empty#end") == "empty")
    #expect(render("## a comment\nok") == "ok")
}

@Test func deepNestingStopsParsingInsteadOfCrashing() {
    let deep = String(repeating: "#if(", count: 5000) + String(repeating: "(", count: 50000)
    _ = render(deep)
    #expect(render("#if(!!true)yes#end") == "yes")
}

@Test func mockStatusFromRequestTemplate() {
    let out = render(#"{"statusCode": #if($input.params('fail') == 'yes')500#{else}200#end}"#, query: [("fail", "yes")])
    #expect(out == #"{"statusCode": 500}"#)
}

@Test func requestTimeIsAPIGatewaysFormat() {
    #expect(sampleInvoke().requestTime == "14/Nov/2023:22:13:20 +0000")
    #expect(sampleInvoke().requestContext["requestTimeEpoch"] as? Int64 == 1_700_000_000_000)
}
