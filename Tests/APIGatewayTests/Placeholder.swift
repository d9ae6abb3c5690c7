@testable import APIGateway
import Testing

@Test func placeholder() { #expect(APIGatewayService.pathPrefixes.contains("/v2/")) }
