import Core
import Foundation
import Testing

@testable import CloudFormation

/// The fake provider reads its things back: a thing removed is DELETED, `Unchecked: true` is NOT_CHECKED.
extension ThingProvider {
    func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        if request.properties["Unchecked"] == .bool(true) { return .notChecked }
        if let delay = request.properties["ReadDelay"]?.double { try await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
        if request.properties["ReadFails"] == .bool(true) { throw AWSError("AccessDenied", "cannot read \(request.logicalId)") }
        guard let props = live[state.physicalId] else { return .deleted }
        return .properties(props)
    }

    func change(_ id: String, _ edit: (inout [String: JSON]) -> Void) {
        things.withLock { edit(&$0[id]!) }
    }
}

extension Harness {
    /// Detect drift and wait for the detection to finish; its status answer.
    func detectDrift(_ name: String, _ extra: [String: String] = [:]) async throws -> String {
        var p = extra
        p["StackName"] = name
        let started = try await call("DetectStackDrift", p)
        let id = try #require(started.between("<StackDriftDetectionId>", "</StackDriftDetectionId>"))
        for _ in 0..<200 {
            let status = try await call("DescribeStackDriftDetectionStatus", ["StackDriftDetectionId": id])
            if !status.contains("DETECTION_IN_PROGRESS") { return status }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("drift detection did not finish")
        return ""
    }
}

extension String {
    func between(_ a: String, _ b: String) -> String? {
        guard let r = range(of: a), let e = self[r.upperBound...].range(of: b) else { return nil }
        return String(self[r.upperBound..<e.lowerBound])
    }
}

@Suite struct DriftComparisonTests {
    @Test func scalarsCompareByText() {
        #expect(Drift.differences(expected: ["V": 30, "B": .bool(true)], actual: ["V": "30", "B": "true", "Other": "x"]).isEmpty)
        #expect(Drift.differences(expected: ["V": 30], actual: ["V": "30.0"]).isEmpty)
        let d = Drift.differences(expected: ["VisibilityTimeout": 30], actual: ["VisibilityTimeout": "45"])
        #expect(d == [.init(path: "/VisibilityTimeout", expected: "30", actual: "45", type: "NOT_EQUAL")])
    }

    @Test func missingAndAddedValues() {
        let d = Drift.differences(expected: ["A": "x", "P": .object(["K": 1, "L": 2])],
                                  actual: ["P": .object(["K": 1, "M": 3])])
        #expect(d == [.init(path: "/A", expected: "x", actual: "null", type: "REMOVE"),
                      .init(path: "/P/L", expected: "2", actual: "null", type: "REMOVE"),
                      .init(path: "/P/M", expected: "null", actual: "3", type: "ADD")])
        let lists = Drift.differences(expected: ["L": .array(["a", "b"])], actual: ["L": .array(["a", "c", "d"])])
        #expect(lists == [.init(path: "/L/1", expected: "b", actual: "c", type: "NOT_EQUAL"),
                          .init(path: "/L/2", expected: "null", actual: "d", type: "ADD")])
        #expect(Drift.differences(expected: ["a/b": 1], actual: [:])[0].path == "/a~1b")
        #expect(Drift.differences(expected: ["Tags": .array([]), "M": .object([:])], actual: [:]).isEmpty)
    }

    @Test func tagsCompareAsSets() {
        func tag(_ k: String, _ v: String) -> JSON { .object(["Key": .string(k), "Value": .string(v)]) }
        #expect(Drift.differences(expected: ["Tags": .array([tag("a", "1"), tag("b", "2")])],
                                  actual: ["Tags": .array([tag("b", "2"), tag("a", "1")])]).isEmpty)
        let d = Drift.differences(expected: ["Tags": .array([tag("a", "1"), tag("b", "2")])],
                                  actual: ["Tags": .array([tag("c", "3"), tag("a", "9")])])
        #expect(d == [.init(path: "/Tags/0/Value", expected: "1", actual: "9", type: "NOT_EQUAL"),
                      .init(path: "/Tags/1", expected: "{\"Key\":\"b\",\"Value\":\"2\"}", actual: "null", type: "REMOVE"),
                      .init(path: "/Tags/0", expected: "null", actual: "{\"Key\":\"c\",\"Value\":\"3\"}", type: "ADD")])
    }

    @Test func stackTagsAreExpectedWhereTheTemplateGivesTags() {
        let e = CloudFormationService.expectedProperties(["Tags": .array([.object(["Key": "a", "Value": "1"])])],
                                                         stackTags: [StackParameter(key: "team", value: "core")])
        #expect(e["Tags"]?.array?.count == 2)
        #expect(CloudFormationService.expectedProperties(["V": 1], stackTags: [StackParameter(key: "t", value: "v")]) == ["V": 1])
    }
}

@Suite struct DriftDetectionTests {
    let template = """
        Resources:
          A: {Type: Test::Thing, Properties: {Size: 30, Label: one}}
          B: {Type: Test::Thing, Properties: {Size: 5}}
          C: {Type: Test::Thing, Properties: {Unchecked: true}}
        """

    @Test func inSyncThenModifiedAndDeleted() async throws {
        let h = try Harness()
        let s = try await h.create("d1", template)
        let before = try await h.call("DescribeStacks", ["StackName": "d1"])
        #expect(before.contains("<DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation>"))

        var status = try await h.detectDrift("d1")
        #expect(status.contains("<StackDriftStatus>IN_SYNC</StackDriftStatus><DetectionStatus>DETECTION_COMPLETE</DetectionStatus>"))
        #expect(status.contains("<DriftedStackResourceCount>0</DriftedStackResourceCount>"))

        // Out-of-band: A's Size changed as a string, a property the template does not give added; B deleted.
        let a = try #require(s.resources["A"]?.physicalId), b = try #require(s.resources["B"]?.physicalId)
        h.provider.change(a) { $0["Size"] = "45"; $0["Extra"] = "x" }
        h.provider.things.withLock { $0[b] = nil }
        status = try await h.detectDrift("d1")
        #expect(status.contains("<StackDriftStatus>DRIFTED</StackDriftStatus>"))
        #expect(status.contains("<DriftedStackResourceCount>2</DriftedStackResourceCount>"))

        let drifts = try await h.call("DescribeStackResourceDrifts", ["StackName": "d1"])
        #expect(drifts.contains("<LogicalResourceId>A</LogicalResourceId>"))
        #expect(drifts.contains("<PropertyDifferences><member><PropertyPath>/Size</PropertyPath><ExpectedValue>30</ExpectedValue><ActualValue>45</ActualValue><DifferenceType>NOT_EQUAL</DifferenceType></member></PropertyDifferences><StackResourceDriftStatus>MODIFIED</StackResourceDriftStatus>"))
        #expect(drifts.contains("<ExpectedProperties>{&quot;Label&quot;:&quot;one&quot;,&quot;Size&quot;:30}</ExpectedProperties><ActualProperties>{&quot;Label&quot;:&quot;one&quot;,&quot;Size&quot;:&quot;45&quot;}</ActualProperties>")
                || drifts.contains("<ExpectedProperties>{\"Label\":\"one\",\"Size\":30}</ExpectedProperties>"))
        #expect(drifts.contains("<StackResourceDriftStatus>DELETED</StackResourceDriftStatus>"))
        #expect(!drifts.contains("<LogicalResourceId>C</LogicalResourceId>"))  // not checked: not listed

        let modified = try await h.call("DescribeStackResourceDrifts", ["StackName": "d1", "StackResourceDriftStatusFilters.member.1": "DELETED"])
        #expect(modified.contains("<LogicalResourceId>B</LogicalResourceId>") && !modified.contains("<LogicalResourceId>A</LogicalResourceId>"))

        let resources = try await h.call("DescribeStackResources", ["StackName": "d1"])
        #expect(resources.contains("<StackResourceDriftStatus>MODIFIED</StackResourceDriftStatus><LastCheckTimestamp>"))
        #expect(resources.contains("<LogicalResourceId>C</LogicalResourceId>"))
        let c = try await h.call("DescribeStackResource", ["StackName": "d1", "LogicalResourceId": "C"])
        #expect(c.contains("<DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus></DriftInformation>"))
        let described = try await h.call("DescribeStacks", ["StackName": "d1"])
        #expect(described.contains("<DriftInformation><StackDriftStatus>DRIFTED</StackDriftStatus><LastCheckTimestamp>"))
        let listed = try await h.call("ListStacks")
        #expect(listed.contains("<StackDriftStatus>DRIFTED</StackDriftStatus>"))
    }

    @Test func singleResourceAndPaging() async throws {
        let h = try Harness()
        let s = try await h.create("d2", template)
        h.provider.change(try #require(s.resources["B"]?.physicalId)) { $0["Size"] = 6 }
        let one = try await h.call("DetectStackResourceDrift", ["StackName": "d2", "LogicalResourceId": "B"])
        #expect(one.contains("<StackResourceDrift><StackId>\(s.id)</StackId><LogicalResourceId>B</LogicalResourceId>"))
        #expect(one.contains("<PropertyPath>/Size</PropertyPath><ExpectedValue>5</ExpectedValue><ActualValue>6</ActualValue>"))
        let unchecked = try await h.call("DetectStackResourceDrift", ["StackName": "d2", "LogicalResourceId": "C"])
        #expect(unchecked.contains("<StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus>"))

        // Only the named resources are checked.
        let status = try await h.detectDrift("d2", ["LogicalResourceIds.member.1": "A"])
        #expect(status.contains("<StackDriftStatus>IN_SYNC</StackDriftStatus>"))
        let page1 = try await h.call("DescribeStackResourceDrifts", ["StackName": "d2", "MaxResults": "1"])
        #expect(page1.contains("<LogicalResourceId>A</LogicalResourceId>") && !page1.contains("<LogicalResourceId>B</LogicalResourceId>"))
        let token = try #require(page1.between("<NextToken>", "</NextToken>"))
        let page2 = try await h.call("DescribeStackResourceDrifts", ["StackName": "d2", "MaxResults": "1", "NextToken": token])
        #expect(page2.contains("<LogicalResourceId>B</LogicalResourceId>") && !page2.contains("<NextToken>"))
    }

    @Test func aResourceThatCannotBeReadFailsTheDetection() async throws {
        let h = try Harness()
        let s = try await h.create("d4", "Resources:\n  A: {Type: Test::Thing, Properties: {V: 1}}\n  R: {Type: Test::Thing, Properties: {ReadFails: true}}\n")
        var status = try await h.detectDrift("d4")
        #expect(status.contains("<StackDriftStatus>UNKNOWN</StackDriftStatus><DetectionStatus>DETECTION_FAILED</DetectionStatus><DetectionStatusReason>Failed to detect drift on resource(s) [R]</DetectionStatusReason>"))
        let drifts = try await h.call("DescribeStackResourceDrifts", ["StackName": "d4"])
        #expect(drifts.contains("<StackResourceDriftStatus>UNKNOWN</StackResourceDriftStatus><Timestamp>"))
        #expect(drifts.contains("<DriftStatusReason>cannot read R</DriftStatusReason>"))
        #expect(drifts.contains("<LogicalResourceId>A</LogicalResourceId>"))  // the others' results stand
        #expect(try await h.call("DescribeStacks", ["StackName": "d4"]).contains("<StackDriftStatus>UNKNOWN</StackDriftStatus>"))
        // Drifted wins over unknown.
        h.provider.change(try #require(s.resources["A"]?.physicalId)) { $0["V"] = 2 }
        status = try await h.detectDrift("d4")
        #expect(status.contains("<StackDriftStatus>DRIFTED</StackDriftStatus><DetectionStatus>DETECTION_FAILED</DetectionStatus>"))
    }

    @Test func detectionRunsInTheBackground() async throws {
        let h = try Harness()
        _ = try await h.create("d5", "Resources:\n  A: {Type: Test::Thing, Properties: {ReadDelay: 0.5}}\n")
        let started = try await h.call("DetectStackDrift", ["StackName": "d5"])
        let id = try #require(started.between("<StackDriftDetectionId>", "</StackDriftDetectionId>"))
        let status = try await h.call("DescribeStackDriftDetectionStatus", ["StackDriftDetectionId": id])
        #expect(status.contains("<StackDriftDetectionId>\(id)</StackDriftDetectionId><DetectionStatus>DETECTION_IN_PROGRESS</DetectionStatus><DetectionStatusReason>User Initiated</DetectionStatusReason><Timestamp>"))
        #expect(!status.contains("StackDriftStatus>") && !status.contains("DriftedStackResourceCount"))
        #expect(try await h.call("DescribeStacks", ["StackName": "d5"]).contains("<StackDriftStatus>NOT_CHECKED</StackDriftStatus>"))
        let done = try await h.detectDrift("d5")
        #expect(done.contains("<StackDriftStatus>IN_SYNC</StackDriftStatus><DetectionStatus>DETECTION_COMPLETE</DetectionStatus><DriftedStackResourceCount>0</DriftedStackResourceCount>"))
    }

    @Test func aDetectionARestartInterruptedFails() async throws {
        let h = try Harness()
        let s = try await h.create("d6", template)
        try h.service.store.save(DriftDetection(id: "interrupted", stackId: s.id, status: "DETECTION_IN_PROGRESS", timestamp: 1))
        let status = try await h.call("DescribeStackDriftDetectionStatus", ["StackDriftDetectionId": "interrupted"])
        #expect(status.contains("<StackDriftStatus>UNKNOWN</StackDriftStatus><DetectionStatus>DETECTION_FAILED</DetectionStatus><DetectionStatusReason>The drift detection was interrupted by a restart of the emulator.</DetectionStatusReason>"))
    }

    @Test func errors() async throws {
        let h = try Harness()
        _ = try await h.create("d3", template)
        func message(_ action: String, _ p: [String: String]) async -> String? {
            do { try await h.call(action, p); return nil } catch let e as AWSError { return e.message } catch { return "\(error)" }
        }
        #expect(await message("DetectStackDrift", ["StackName": "nope"]) == "Stack with id nope does not exist")
        #expect(await message("DetectStackDrift", ["StackName": "d3", "LogicalResourceIds.member.1": "Z"]) == "Resource Z does not exist for stack d3")
        #expect(await message("DetectStackResourceDrift", ["StackName": "d3", "LogicalResourceId": "Z"]) == "Resource Z does not exist for stack d3")
        #expect(await message("DescribeStackDriftDetectionStatus", ["StackDriftDetectionId": "x"]) == "Drift detection with id x does not exist")
        #expect(await message("DescribeStackResourceDrifts", ["StackName": "d3", "MaxResults": "0"])?.contains("maxResults") == true)
        #expect(await message("DescribeStackResourceDrifts", ["StackName": "d3", "StackResourceDriftStatusFilters.member.1": "BAD"])?.contains("enum value set") == true)
        #expect(await message("DescribeStackResourceDrifts", ["StackName": "d3", "NextToken": "garbage"]) == "Invalid NextToken")
    }
}
