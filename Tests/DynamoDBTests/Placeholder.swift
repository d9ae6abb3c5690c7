@testable import DynamoDB
import Testing

@Test func placeholder() { #expect(DynamoDB.targetPrefix == "DynamoDB_20120810") }
