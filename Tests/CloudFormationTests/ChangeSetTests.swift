import Core
import Foundation
import Testing

@testable import CloudFormation

/// Objects in memory, as Core's ObjectSource (S3 in the emulator).
struct MemoryObjects: ObjectSource {
    var objects: [String: String]
    func objectBytes(bucket: String, key: String, limit: Int) async throws -> [UInt8] {
        guard let text = objects["\(bucket)/\(key)"] else {
            throw AWSError("NoSuchKey", "The specified key does not exist.", status: .notFound)
        }
        return Array(text.utf8)
    }
}

private func failure(_ body: () async throws -> Void) async -> AWSError? {
    do { try await body(); return nil } catch let e as AWSError { return e } catch { return AWSError("Other", "\(error)") }
}

@Suite struct ChangeSetTests {
    let template = """
        Parameters:
          Label: {Type: String, Default: one}
        Resources:
          A: {Type: Test::Thing, Properties: {Name: a, Label: !Ref Label}}
          B: {Type: Test::Thing, Properties: {Parent: !GetAtt A.Arn}}
        """

    @Test func createChangeSetReviewsThenExecutes() async throws {
        let h = try Harness()
        let xml = try await h.call("CreateChangeSet", ["StackName": "s", "ChangeSetName": "c1", "ChangeSetType": "CREATE",
                                                        "TemplateBody": template, "Description": "first"])
        #expect(xml.contains("<Id>arn:aws:cloudformation:us-east-1:123456789012:changeSet/c1/"))
        var s = try h.stack("s")
        #expect(s.status == "REVIEW_IN_PROGRESS")
        #expect(s.resources.isEmpty)
        #expect(h.provider.log.isEmpty)
        let cs = s.changeSets[0]
        #expect(cs.status == "CREATE_COMPLETE" && cs.executionStatus == "AVAILABLE")
        #expect(cs.changes.map { "\($0.action) \($0.logicalId)" } == ["Add A", "Add B"])
        let described = try await h.call("DescribeChangeSet", ["StackName": "s", "ChangeSetName": "c1"])
        #expect(described.contains("<Action>Add</Action>"))
        #expect(described.contains("<Description>first</Description>"))
        try await h.call("ExecuteChangeSet", ["ChangeSetName": cs.id])
        await h.service.settle()
        s = try h.stack("s")
        #expect(s.status == "CREATE_COMPLETE")
        #expect(h.provider.log == ["create A", "create B"])
        let after = try await h.call("DescribeChangeSet", ["ChangeSetName": cs.id])
        #expect(after.contains("<ExecutionStatus>EXECUTE_COMPLETE</ExecutionStatus>"))
    }

    @Test func updateChangeSetDescribesModifyAndRemove() async throws {
        let h = try Harness()
        _ = try await h.create("s", template)
        let next = """
            Parameters:
              Label: {Type: String, Default: one}
            Resources:
              A: {Type: Test::Thing, Properties: {Name: a2, Label: !Ref Label}}
              C: {Type: Test::Thing}
            """
        try await h.call("CreateChangeSet", ["StackName": "s", "ChangeSetName": "u1", "TemplateBody": next])
        var cs = try h.stack("s").changeSets[0]
        #expect(cs.type == "UPDATE")
        #expect(cs.changes.map { "\($0.action) \($0.logicalId) \($0.replacement ?? "-")" } == ["Modify A True", "Add C -", "Remove B -"])
        #expect(cs.changes[0].scope == ["Properties"])
        #expect(cs.changes[0].details == [.init(attribute: "Properties", name: "Name", requiresRecreation: "Always",
                                                evaluation: "Static", changeSource: "DirectModification")])
        #expect(cs.changes[2].policyAction == "Delete")
        #expect(cs.changes[0].policyAction == "ReplaceAndDelete" && cs.changes[1].policyAction == nil)
        // A parameter change: in place, caused by the parameter.
        try await h.call("CreateChangeSet", ["StackName": "s", "ChangeSetName": "u2", "UsePreviousTemplate": "true",
                                             "Parameters.member.1.ParameterKey": "Label", "Parameters.member.1.ParameterValue": "two"])
        cs = try h.stack("s").changeSets[1]
        #expect(cs.changes.count == 1)
        #expect(cs.changes[0].replacement == "False")
        #expect(cs.changes[0].details.first?.changeSource == "ParameterReference")
        #expect(cs.changes[0].details.first?.causingEntity == "Label")
        #expect(try await h.call("ListChangeSets", ["StackName": "s"]).contains("<ChangeSetName>u2</ChangeSetName>"))
        try await h.call("ExecuteChangeSet", ["StackName": "s", "ChangeSetName": "u2"])
        await h.service.settle()
        let s = try h.stack("s")
        #expect(s.status == "UPDATE_COMPLETE")
        #expect(s.parameterValues["Label"] == "two")
        // Executing one change set deletes the stack's others.
        #expect(s.changeSets.map(\.name) == ["u2"])
    }

    @Test func emptyChangeSetFails() async throws {
        let h = try Harness()
        _ = try await h.create("s", template)
        try await h.call("CreateChangeSet", ["StackName": "s", "ChangeSetName": "same", "TemplateBody": template,
                                             "Parameters.member.1.ParameterKey": "Label", "Parameters.member.1.UsePreviousValue": "true"])
        let cs = try h.stack("s").changeSets[0]
        #expect(cs.status == "FAILED")
        #expect(cs.executionStatus == "UNAVAILABLE")
        #expect(cs.statusReason == "The submitted information didn't contain changes. Submit different information to create a change set.")
        let e = await failure { try await h.call("ExecuteChangeSet", ["StackName": "s", "ChangeSetName": "same"]) }
        #expect(e?.code == "InvalidChangeSetStatus")
    }

    @Test func staleChangeSetIsRefused() async throws {
        let h = try Harness()
        _ = try await h.create("s", template)
        try await h.call("CreateChangeSet", ["StackName": "s", "ChangeSetName": "later", "UsePreviousTemplate": "true",
                                             "Parameters.member.1.ParameterKey": "Label", "Parameters.member.1.ParameterValue": "x"])
        _ = try await h.update("s", template, ["Parameters.member.1.ParameterKey": "Label", "Parameters.member.1.ParameterValue": "y"])
        let e = await failure { try await h.call("ExecuteChangeSet", ["StackName": "s", "ChangeSetName": "later"]) }
        #expect(e?.code == "InvalidChangeSetStatus")
    }

    @Test func deleteRulesAndRefusals() async throws {
        let h = try Harness()
        try await h.call("CreateChangeSet", ["StackName": "r", "ChangeSetName": "c", "ChangeSetType": "CREATE", "TemplateBody": template])
        try await h.call("DeleteChangeSet", ["StackName": "r", "ChangeSetName": "c"])
        #expect(try h.stack("r").status == "REVIEW_IN_PROGRESS")
        let missing = await failure { try await h.call("DescribeChangeSet", ["StackName": "r", "ChangeSetName": "c"]) }
        #expect(missing?.code == "ChangeSetNotFound")
        try await h.call("DeleteStack", ["StackName": "r"])
        await h.service.settle()
        #expect(try h.service.store.find("r", account: "123456789012", region: "us-east-1") == nil)

        let imp = await failure {
            try await h.call("CreateChangeSet", ["StackName": "i", "ChangeSetName": "c", "ChangeSetType": "IMPORT", "TemplateBody": template])
        }
        #expect(imp?.code == "ValidationError")
        let update = await failure {
            try await h.call("CreateChangeSet", ["StackName": "nope", "ChangeSetName": "c", "TemplateBody": template])
        }
        #expect(update?.message == "Stack [nope] does not exist")
        let noStack = await failure { try await h.call("DescribeChangeSet", ["ChangeSetName": "c"]) }
        #expect(noStack?.message == "StackName must be specified if ChangeSetName is not specified as an ARN.")
    }

    @Test func getTemplateOfChangeSet() async throws {
        let h = try Harness()
        try await h.call("CreateChangeSet", ["StackName": "g", "ChangeSetName": "c", "ChangeSetType": "CREATE", "TemplateBody": template])
        let xml = try await h.call("GetTemplate", ["StackName": "g", "ChangeSetName": "c", "TemplateStage": "Processed"])
        #expect(xml.contains("Test::Thing"))
        let stack = try await h.call("GetTemplate", ["StackName": "g", "TemplateStage": "Original"])
        #expect(stack.contains("Test::Thing"))
    }

    @Test func templateURLForms() {
        func loc(_ url: String) -> String? {
            TemplateURL.location(url, ownHost: "cloudless.internal").map { "\($0.bucket)|\($0.key)" }
        }
        #expect(loc("http://127.0.0.1:4566/b/dir/t.yaml") == "b|dir/t.yaml")
        #expect(loc("http://cloudless.internal:4566/b/t%20x.yaml") == "b|t x.yaml")
        #expect(loc("http://b.localhost:4566/t.yaml") == "b|t.yaml")
        #expect(loc("https://b.s3.amazonaws.com/t.yaml") == "b|t.yaml")
        #expect(loc("https://b.s3.eu-west-1.amazonaws.com/k/t.yaml") == "b|k/t.yaml")
        #expect(loc("https://s3.us-east-1.amazonaws.com/b/t.yaml") == "b|t.yaml")
        #expect(loc("https://s3-us-west-2.amazonaws.com/b/t.yaml") == "b|t.yaml")
        #expect(loc("https://example.com/b/t.yaml") == nil)
        #expect(loc("s3://b/t.yaml") == nil)
    }

    @Test func templateURLReadsObjects() async throws {
        let h = try Harness(objects: MemoryObjects(objects: ["bkt/t.yaml": template]))
        try await h.call("CreateStack", ["StackName": "u", "TemplateURL": "http://localhost:4566/bkt/t.yaml"])
        await h.service.settle()
        #expect(try h.stack("u").status == "CREATE_COMPLETE")
        let summary = try await h.call("GetTemplateSummary", ["TemplateURL": "https://bkt.s3.amazonaws.com/t.yaml"])
        #expect(summary.contains("<member>Test::Thing</member>"))
        let missing = await failure { try await h.call("ValidateTemplate", ["TemplateURL": "http://localhost:4566/bkt/none.yaml"]) }
        #expect(missing?.message == "TemplateURL must reference a valid S3 object to which you have access.")
        let foreign = await failure { try await h.call("ValidateTemplate", ["TemplateURL": "https://example.com/t.yaml"]) }
        #expect(foreign?.message == "TemplateURL must be an Amazon S3 URL.")
    }
}
