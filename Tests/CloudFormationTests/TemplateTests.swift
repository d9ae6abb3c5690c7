import Core
import Foundation
import Testing

@testable import CloudFormation

private func evaluator(_ text: String, _ params: [String: String] = [:], exports: [String: String] = [:]) throws -> Evaluator {
    let t = try Template(body: text)
    return try Evaluator(template: t, parameters: try t.resolveParameters(params), account: "123456789012",
                         region: "eu-west-1", stackName: "s1", stackId: "arn:aws:cloudformation:eu-west-1:123456789012:stack/s1/x",
                         exports: exports)
}

@Suite struct TemplateParsingTests {
    @Test func jsonTemplate() throws {
        let t = try Template(body: #"{"Description": "d", "Resources": {"A": {"Type": "Test::Thing", "Properties": {"N": 1}}}}"#)
        #expect(t.description == "d")
        #expect(t.resources["A"]?.type == "Test::Thing")
        #expect(t.resources["A"]?.properties["N"] == .number(1))
    }

    @Test func yamlShortForms() throws {
        let yaml = """
            Parameters:
              Env: {Type: String, Default: dev}
            Conditions:
              IsProd: !Equals [!Ref Env, prod]
            Resources:
              A:
                Type: Test::Thing
                Properties:
                  Name: !Ref Env
                  Arn: !GetAtt B.Arn
                  Arn2: !GetAtt [B, Arn]
                  Text: !Sub "${Env}-x"
                  Joined: !Join [",", [a, b]]
                  Sel: !Select [0, !Split [",", "a,b"]]
                  Maybe: !If [IsProd, yes, "no"]
                  Map: !FindInMap [M, k, v]
                  Azs: !GetAZs ""
                  B64: !Base64 hi
                  Imp: !ImportValue exp
                  Not: !Not [!Condition IsProd]
                  Both: !And [!Equals [a, a], !Or [!Equals [a, b], !Equals [b, b]]]
                  Cidr: !Cidr ["10.0.0.0/16", 2, 8]
                  Int: 5
                  Quoted: "5"
                  Flag: true
              B: {Type: Test::Thing}
            """
        let t = try Template(body: yaml)
        let p = t.resources["A"]!.properties
        #expect(p["Name"] == .object(["Ref": "Env"]))
        #expect(p["Arn"] == .object(["Fn::GetAtt": .array(["B", "Arn"])]))
        #expect(p["Arn2"] == .object(["Fn::GetAtt": .array(["B", "Arn"])]))
        #expect(p["Text"] == .object(["Fn::Sub": "${Env}-x"]))
        #expect(p["Maybe"] == .object(["Fn::If": .array(["IsProd", "yes", "no"])]))
        #expect(p["Not"] == .object(["Fn::Not": .array([.object(["Condition": "IsProd"])])]))
        #expect(p["Cidr"] == .object(["Fn::Cidr": .array(["10.0.0.0/16", .number(2), .number(8)])]))
        #expect(p["Int"] == .number(5))
        #expect(p["Quoted"] == .string("5"))
        #expect(p["Flag"] == .bool(true))
        #expect(t.dependencies(of: "A") == ["B"])
    }

    @Test func formatErrors() {
        #expect(message { _ = try Template(body: "{}") } == "Template format error: At least one Resources member must be defined.")
        #expect(message { _ = try Template(body: #"{"Resources": {"A": {"Properties": {}}}}"#) }
                == "Template format error: [/Resources/A] Every Resources object must contain a Type member.")
        #expect(message { _ = try Template(body: #"{"Bogus": 1, "Resources": {"A": {"Type": "T"}}}"#) }
                == "Template format error: Invalid template property or properties [Bogus]")
        #expect(message { _ = try Template(body: #"{"Resources": {"A": {"Type": "T", "Properties": {"X": {"Ref": "Nope"}}}}}"#) }
                == "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template")
        #expect(message { _ = try Template(body: #"{"Resources": {"A": {"Type": "T", "DependsOn": "Z"}}}"#) }
                == "Template format error: Unresolved resource dependencies [Z] in the Resources block of the template")
        #expect(message { _ = try Template(body: "Resources:\n  A: {Type: T, Properties: {X: !Bogus 1}}\n") }?
                .hasPrefix("Template format error: YAML not well-formed.") == true)
        #expect(message { _ = try Template(body: "Parameters:\n  P: {Type: 'AWS::SSM::Parameter::Value<String>'}\nResources:\n  A: {Type: T}\n") }?
                .contains("not supported") == true)
        #expect(message { _ = try Template(body: "Transform: AWS::Include\nResources:\n  A: {Type: T}\n") }?
                .contains("not supported by Cloudless") == true)
    }

    @Test func circularDependency() {
        let yaml = """
            Resources:
              A: {Type: T, Properties: {X: !Ref B}}
              B: {Type: T, Properties: {X: !GetAtt C.Arn}}
              C: {Type: T, Properties: {X: !Sub "${A}"}}
              D: {Type: T}
            """
        #expect(message { _ = try Template(body: yaml) } == "Circular dependency between resources: [A, B, C]")
    }

    @Test func wavesFollowDependencies() throws {
        let yaml = """
            Resources:
              A: {Type: T, Properties: {X: !Ref B}}
              B: {Type: T, DependsOn: [C]}
              C: {Type: T}
              D: {Type: T}
              E: {Type: T, Properties: {X: !Sub ["${v}", {v: !Ref A}]}}
            """
        let t = try Template(body: yaml)
        #expect(try t.waves(of: Array(t.resources.keys)) == [["C", "D"], ["B"], ["A"], ["E"]])
    }
}

@Suite struct ParameterTests {
    let yaml = """
        Parameters:
          Name: {Type: String, MinLength: 2, MaxLength: 5, AllowedPattern: "[a-z]+"}
          Size: {Type: Number, MinValue: 1, MaxValue: 10, Default: 3}
          Env: {Type: String, AllowedValues: [dev, prod], Default: dev}
          Ids: {Type: List<Number>, Default: "1,2"}
          Names: {Type: CommaDelimitedList, Default: "a,b,c"}
          Secret: {Type: String, NoEcho: true, Default: s}
        Resources:
          A: {Type: T}
        """

    @Test func defaultsAndGiven() throws {
        let t = try Template(body: yaml)
        let v = try t.resolveParameters(["Name": "abc"])
        #expect(v == ["Name": "abc", "Size": "3", "Env": "dev", "Ids": "1,2", "Names": "a,b,c", "Secret": "s"])
        #expect(t.parameters["Secret"]?.noEcho == true)
        let e = try evaluator(yaml, ["Name": "abc"])
        #expect(try e.resolve(.object(["Ref": "Names"])) == .array(["a", "b", "c"]))
        #expect(try e.resolve(.object(["Ref": "Size"])) == "3")
    }

    @Test func constraints() throws {
        let t = try Template(body: yaml)
        #expect(message { _ = try t.resolveParameters([:]) } == "Parameters: [Name] must have values")
        #expect(message { _ = try t.resolveParameters(["Name": "abc", "Other": "1"]) } == "Parameters: [Other] do not exist in the template")
        #expect(message { _ = try t.resolveParameters(["Name": "a"]) } == "Parameter 'Name' must contain at least 2 characters")
        #expect(message { _ = try t.resolveParameters(["Name": "abcdef"]) } == "Parameter 'Name' must contain at most 5 characters")
        #expect(message { _ = try t.resolveParameters(["Name": "AB"]) } == "Parameter 'Name' must match pattern [a-z]+")
        #expect(message { _ = try t.resolveParameters(["Name": "ab", "Size": "x"]) } == "Parameter 'Size' must be a number.")
        #expect(message { _ = try t.resolveParameters(["Name": "ab", "Size": "0"]) } == "Parameter 'Size' must be a number not less than 1")
        #expect(message { _ = try t.resolveParameters(["Name": "ab", "Size": "11"]) } == "Parameter 'Size' must be a number not greater than 10")
        #expect(message { _ = try t.resolveParameters(["Name": "ab", "Env": "qa"]) } == "Parameter 'Env' must be one of AllowedValues")
        #expect(message { _ = try t.resolveParameters(["Name": "ab", "Ids": "1,x"]) } == "Parameter 'Ids' must be a number.")
    }
}

@Suite struct IntrinsicTests {
    let yaml = """
        Parameters:
          Env: {Type: String, Default: prod}
        Mappings:
          M:
            eu-west-1: {Ami: ami-1}
        Conditions:
          IsProd: !Equals [!Ref Env, prod]
          IsDev: !Not [!Condition IsProd]
          Either: !Or [!Condition IsProd, !Condition IsDev]
          Both: !And [!Condition IsProd, !Condition IsDev]
        Resources:
          A: {Type: T}
        """

    @Test func conditions() throws {
        let e = try evaluator(yaml)
        #expect(e.conditionValues == ["IsProd": true, "IsDev": false, "Either": true, "Both": false])
        let dev = try evaluator(yaml, ["Env": "dev"])
        #expect(dev.conditionValues["IsDev"] == true)
    }

    @Test func functions() throws {
        var e = try evaluator(yaml, exports: ["shared-vpc": "vpc-1"])
        e.resources["A"] = ResourceState(physicalId: "a-1", attributes: ["Arn": "arn:a", "Endpoint.Address": "h"])
        func r(_ y: String) throws -> JSON? { try e.resolve(try TemplateParser.parse("V: " + y)["V"]!) }
        #expect(try r("!Ref AWS::Region") == "eu-west-1")
        #expect(try r("!Ref AWS::AccountId") == "123456789012")
        #expect(try r("!Ref AWS::StackName") == "s1")
        #expect(try r("!Ref AWS::Partition") == "aws")
        #expect(try r("!Ref AWS::URLSuffix") == "amazonaws.com")
        #expect(try r("!Ref AWS::NotificationARNs") == .array([]))
        #expect(try r("!Ref A") == "a-1")
        #expect(try r("!GetAtt A.Arn") == "arn:a")
        #expect(try r("!GetAtt A.Endpoint.Address") == "h")
        #expect(try r("!Sub '${A}/${A.Arn}/${AWS::Region}/${!Literal}/${Env}'") == "a-1/arn:a/eu-west-1/${Literal}/prod")
        #expect(try r("!Sub ['${x}-${Env}', {x: !Ref A}]") == "a-1-prod")
        #expect(try r("!Join ['-', [a, !Ref Env, 3]]") == "a-prod-3")
        #expect(try r("!Select [1, [a, b, c]]") == "b")
        #expect(try r("!Select ['2', !Split [',', 'x,y,z']]") == "z")
        #expect(try r("!If [IsProd, big, small]") == "big")
        #expect(try r("!If [IsDev, big, !Ref AWS::NoValue]") == nil)
        #expect(try r("{a: !Ref AWS::NoValue, b: 1}") == .object(["b": 1]))
        #expect(try r("[!If [IsDev, x, !Ref AWS::NoValue], y]") == .array(["y"]))
        #expect(try r("!FindInMap [M, !Ref AWS::Region, Ami]") == "ami-1")
        #expect(try r("!GetAZs ''") == .array(["eu-west-1a", "eu-west-1b", "eu-west-1c"]))
        #expect(try r("!Base64 hello") == "aGVsbG8=")
        #expect(try r("!ImportValue shared-vpc") == "vpc-1")
        #expect(try r("!Equals [1, '1']") == .bool(true))
        #expect(try r("!Cidr ['10.0.0.0/16', 3, 8]") == .array(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]))
        #expect(try r(#"{"Fn::GetAtt": "A.Arn"}"#) == "arn:a")
        #expect(message { _ = try r("!FindInMap [M, nowhere, Ami]") } == "Template error: Unable to get mapping for M::nowhere::Ami")
        #expect(message { _ = try r("!ImportValue missing") } == "No export named missing found.")
        #expect(message { _ = try r("!GetAtt A.Nope") } == "Template error: resource A of type T does not support attribute Nope in Fn::GetAtt")
        #expect(message { _ = try r("!Select [5, [a]]") } == "Template error: Fn::Select cannot select nonexistent value at index 5")
        #expect(message { _ = try r(#"{"Fn::Nope": 1}"#) }?.hasPrefix("Template format error: Encountered unsupported function: Fn::Nope") == true)
    }
}
