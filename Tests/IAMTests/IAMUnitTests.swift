import Testing
@testable import IAM

@Suite struct Placeholder { @Test func builds() {} }
