import Core
import Testing

@testable import Logs

private func matches(_ pattern: String, _ message: String) throws -> Bool {
    try FilterPattern.parse(pattern).matches(message)
}

@Suite struct TextPatternTests {
    @Test func blankPatternsMatchEverything() throws {
        #expect(try matches("", "anything"))
        #expect(try matches("   ", "anything"))
        if case .all = try FilterPattern.parse(nil) {} else { Issue.record("nil pattern is not .all") }
    }

    @Test func aTermMatchesWholeWordsCaseSensitively() throws {
        #expect(try matches("ERROR", "[ERROR] disk full"))
        #expect(try matches("ERROR", "level=ERROR msg=x"))
        #expect(try matches("ERROR", "ERROR"))
        #expect(try !matches("ERROR", "error: lower case"))
        #expect(try !matches("ERROR", "ERRORS happened"))
        #expect(try !matches("Exception", "java.lang.NullPointerException"))
        #expect(try matches("NullPointerException", "java.lang.NullPointerException: boom"))
        #expect(try matches("404", "GET / 404 12ms"))
        #expect(try !matches("40", "GET / 404 12ms"))
    }

    @Test func severalTermsMustAllAppearInAnyOrder() throws {
        #expect(try matches("ERROR ARGUMENTS", "ARGUMENTS were wrong: ERROR"))
        #expect(try !matches("ERROR ARGUMENTS", "ERROR only"))
    }

    @Test func quotedPhrasesMatchExactly() throws {
        #expect(try matches("\"INTERNAL SERVER ERROR\"", "500 INTERNAL SERVER ERROR at /x"))
        #expect(try !matches("\"INTERNAL SERVER ERROR\"", "INTERNAL ERROR SERVER"))
        #expect(try matches("\"hello cruel\"", "hello cruel world"))
        #expect(try !matches("\"hello cruel\"", "hello cruela"))
        #expect(try matches("\"Exception:\"", "Exception: boom"))
        #expect(try matches("\"say \\\"hi\\\"\"", "they say \"hi\" twice"))
    }

    @Test func questionMarksMakeAlternatives() throws {
        #expect(try matches("?ERROR ?WARN", "WARN low disk"))
        #expect(try matches("?ERROR ?WARN", "ERROR full disk"))
        #expect(try !matches("?ERROR ?WARN", "INFO all good"))
        // `?A B ?C D` is (A and B) or (C and D), as the CDK writes term groups.
        #expect(try matches("?ERROR MainThread ?WARN Deadlock", "WARN Deadlock found"))
        #expect(try !matches("?ERROR MainThread ?WARN Deadlock", "ERROR in worker"))
        #expect(try matches("?ERROR MainThread ?WARN Deadlock", "MainThread ERROR"))
    }

    @Test func minusExcludesATerm() throws {
        #expect(try matches("ERROR -Exiting", "ERROR disk"))
        #expect(try !matches("ERROR -Exiting", "ERROR Exiting now"))
        #expect(try matches("-ERROR", "all fine"))
        #expect(try !matches("-ERROR", "ERROR"))
        #expect(try !matches("-\"bad thing\"", "a bad thing happened"))
    }

    @Test func percentSignsEncloseARegex() throws {
        #expect(try matches("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST"))
        #expect(try matches("%ERR[0-9]+%", "code ERR42 seen"))
        #expect(try !matches("%ERR[0-9]+%", "code ERR seen"))
        #expect(try matches("%^START%", "START RequestId: 1"))
        #expect(try !matches("%^START%", "x START"))
        // A regex runs to its closing %, spaces included, and combines with other terms.
        #expect(try matches("%disk fu[l]+% ERROR", "[ERROR] disk full"))
        #expect(try !matches("%disk fu[l]+% WARN", "[ERROR] disk full"))
    }

    @Test func anUnclosedQuoteIsRefused() {
        #expect(throws: AWSError.self) { try FilterPattern.parse("\"never closed") }
    }
}

@Suite struct JSONPatternTests {
    let event = #"{"eventType":"UpdateTrail","user":{"id":1,"name":"ana"},"latency":120.5,"ok":true,"err":null,"#
        + #""sourceIPAddress":"123.123.4.5","items":[{"id":7},{"id":9}],"tags":["a","b"],"code":"404"}"#

    @Test func stringEqualityAndWildcards() throws {
        #expect(try matches(#"{ $.eventType = "UpdateTrail" }"#, event))
        #expect(try matches(#"{ $.eventType = UpdateTrail }"#, event))
        #expect(try !matches(#"{ $.eventType = "Update" }"#, event))
        #expect(try matches(#"{ $.eventType = "Update*" }"#, event))
        #expect(try matches(#"{ $.eventType = *Trail }"#, event))
        #expect(try matches(#"{ $.eventType = "*" }"#, event))
        #expect(try matches(#"{ $.sourceIPAddress != 10.0.* }"#, event))
        #expect(try !matches(#"{ $.sourceIPAddress != 123.123.* }"#, event))
        #expect(try matches(#"{$.user.name="ana"}"#, event))
    }

    @Test func numericComparisons() throws {
        #expect(try matches("{ $.latency > 100 }", event))
        #expect(try !matches("{ $.latency < 100 }", event))
        #expect(try matches("{ $.latency >= 120.5 }", event))
        #expect(try matches("{ $.latency <= 120.5 }", event))
        #expect(try matches("{ $.user.id = 1 }", event))
        #expect(try matches("{ $.user.id != 2 }", event))
        #expect(try matches("{ $.latency > 1e2 }", event))
        // A number compared with a string field compares the text; order needs numbers.
        #expect(try matches("{ $.code = 404 }", event))
        #expect(try !matches("{ $.code > 400 }", event))
    }

    @Test func andOrAndParentheses() throws {
        #expect(try matches(#"{ $.user.id = 1 && $.eventType = "UpdateTrail" }"#, event))
        #expect(try !matches(#"{ $.user.id = 2 && $.eventType = "UpdateTrail" }"#, event))
        #expect(try matches(#"{ $.user.id = 2 || $.eventType = "UpdateTrail" }"#, event))
        #expect(try matches(#"{ ($.user.id = 2 && $.ok IS TRUE) || $.latency > 100 }"#, event))
        #expect(try !matches(#"{ ($.user.id = 2 || $.ok IS FALSE) && $.latency > 100 }"#, event))
    }

    @Test func arraysBooleansNullsAndMissingFields() throws {
        #expect(try matches("{ $.items[1].id = 9 }", event))
        #expect(try !matches("{ $.items[0].id = 9 }", event))
        #expect(try matches("{ $.items[*].id = 9 }", event))
        #expect(try matches(#"{ $.tags[0] = "a" }"#, event))
        #expect(try matches("{ $.ok IS TRUE }", event))
        #expect(try !matches("{ $.ok IS FALSE }", event))
        #expect(try matches("{ $.err IS NULL }", event))
        #expect(try !matches("{ $.user IS NULL }", event))
        #expect(try matches("{ $.missing NOT EXISTS }", event))
        #expect(try !matches("{ $.user.id NOT EXISTS }", event))
        // A field that is not there compares false, whatever the operator.
        #expect(try !matches(#"{ $.missing != "x" }"#, event))
        #expect(try !matches("{ $.missing < 5 }", event))
    }

    @Test func regexValues() throws {
        #expect(try matches("{ $.eventType = %Update.*% }", event))
        #expect(try !matches("{ $.eventType != %Update.*% }", event))
    }

    @Test func messagesThatAreNotJSONNeverMatch() throws {
        #expect(try !matches(#"{ $.eventType = "x" }"#, "plain text"))
        #expect(try !matches(#"{ $.a NOT EXISTS }"#, "plain text"))
        #expect(try !matches(#"{ $.a = 1 }"#, #"{"a": 1"#))
    }

    @Test func malformedPatternsAreRefused() {
        for bad in ["{ $.a = }", "{ $.a }", "{ a = 1 }", "{ $.a < \"x\" }", "{ $.a = 1 && }", "{ ($.a = 1 }", "{ $.a & $.b }",
                    "{ $.a IS MAYBE }", "{ $.a = 1 } extra"] {
            #expect(throws: AWSError.self, "\(bad)") { try FilterPattern.parse(bad) }
        }
    }
}

@Suite struct DelimitedPatternTests {
    let line = #"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#

    @Test func columnsKeepQuotedAndBracketedTextWhole() {
        #expect(DelimitedPattern.columns(line) == [
            "127.0.0.1", "-", "frank", "10/Oct/2000:13:25:15 -0700", "GET /index.html HTTP/1.0", "404", "1534",
        ])
    }

    @Test func namedColumnsWithConditions() throws {
        #expect(try matches("[ip, user, username, timestamp, request, status_code, bytes]", line))
        #expect(try !matches("[ip, user, username, timestamp, request, status_code]", line))
        #expect(try matches(#"[ip, user, username, timestamp, request = "*html*", status_code = 4*, bytes]"#, line))
        #expect(try !matches("[ip, user, username, timestamp, request, status_code = 5*, bytes]", line))
        #expect(try matches("[..., status_code = 404, bytes > 1000]", line))
        #expect(try !matches("[..., status_code = 404, bytes > 2000]", line))
        #expect(try matches("[ip = 127.0.0.1, ...]", line))
        #expect(try matches("[ip, ..., status_code != 200, bytes]", line))
        #expect(try matches("[w1=ERROR || w1=WARN, w2]", "WARN disk"))
        #expect(try !matches("[w1=ERROR || w1=WARN, w2]", "INFO disk"))
    }

    @Test func extractedValuesNameTheColumns() throws {
        guard case .delimited(let p) = try FilterPattern.parse("[ip, ..., status, bytes]") else {
            Issue.record("not a delimited pattern")
            return
        }
        #expect(p.values(line) == ["ip": "127.0.0.1", "status": "404", "bytes": "1534"])
    }
}

@Suite struct WildcardTests {
    @Test func starsMatchAnyRun() {
        #expect(Wildcard.matches("a*c", "abc"))
        #expect(Wildcard.matches("a*c", "ac"))
        #expect(!Wildcard.matches("a*c", "acb"))
        #expect(Wildcard.matches("*", ""))
        #expect(Wildcard.matches("*b*", "abc"))
        #expect(!Wildcard.matches("ab*b", "ab"))
        #expect(Wildcard.matches("exact", "exact"))
        #expect(!Wildcard.matches("exact", "exactly"))
    }
}
