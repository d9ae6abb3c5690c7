"""Lambda layers through boto3: PublishLayerVersion (inline zip and from a bucket), Get/GetByArn/List/Delete layer
versions, ListLayers (newest matching version, runtime and architecture filters, pages), layer version policies,
and functions that use layers: a Python module and a Node.js package that only a layer provides, two layers where the
later one overrides a file, and AWS's errors for bad `Layers` (missing versions, unversioned ARNs, two versions of
one layer, another region, more than five).

Expected answers are real AWS Lambda's (botocore's model for shapes; AWS-recorded answers for messages).
"""
import base64
import hashlib
import json
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import (error, error_message, host_python_runtime, make_client, purge_bucket,
                     read_payload, zip_bytes)

NODE = "nodejs20.x"


def unique(tag):
    return f"e2e-{tag}-{uuid.uuid4().hex[:8]}"


def layer_zip(files):
    return zip_bytes(files, executable=("tool",))


def publish(lam, name, files, **kw):
    return lam.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip(files)}, **kw)


PY_LIB = f"python/lib/{host_python_runtime()}/site-packages"


def test_layer_version_lifecycle(lam, account):
    name = unique("life")
    data = layer_zip({"python/greet.py": "WORD = 'one'\n"})
    first = lam.publish_layer_version(LayerName=name, Content={"ZipFile": data}, Description="first", LicenseInfo="MIT",
                                      CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["x86_64"])
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    layer_arn = f"arn:aws:lambda:us-east-1:{account}:layer:{name}"
    assert (first["LayerArn"], first["LayerVersionArn"], first["Version"]) == (layer_arn, layer_arn + ":1", 1)
    assert (first["Description"], first["LicenseInfo"], first["CompatibleRuntimes"], first["CompatibleArchitectures"]) == (
        "first", "MIT", ["python3.12"], ["x86_64"])
    assert first["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert first["Content"]["CodeSize"] == len(data)
    assert requests.get(first["Content"]["Location"], timeout=30).content == data
    second = publish(lam, name, {"python/greet.py": "WORD = 'two'\n"}, CompatibleRuntimes=["nodejs20.x"])
    assert second["Version"] == 2

    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert {k: got[k] for k in ["LayerVersionArn", "Version", "Description", "LicenseInfo", "Content"]} == {
        k: first[k] for k in ["LayerVersionArn", "Version", "Description", "LicenseInfo", "Content"]}
    by_arn = lam.get_layer_version_by_arn(Arn=layer_arn + ":2")
    assert (by_arn["Version"], by_arn["LayerArn"]) == (2, layer_arn)
    assert lam.get_layer_version(LayerName=layer_arn, VersionNumber=2)["Version"] == 2

    versions = lam.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    assert "Content" not in versions[0]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")["LayerVersions"]] == [1]

    lam.delete_layer_version(LayerName=name, VersionNumber=2)
    lam.delete_layer_version(LayerName=name, VersionNumber=2)  # idempotent, as in AWS
    with pytest.raises(ClientError) as e:
        lam.get_layer_version(LayerName=name, VersionNumber=2)
    assert (*error(e), error_message(e)) == ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
    # Numbers are never reused.
    assert publish(lam, name, {"python/x.py": ""})["Version"] == 3
    lam.delete_layer_version(LayerName=name, VersionNumber=1)
    lam.delete_layer_version(LayerName=name, VersionNumber=3)
    assert lam.list_layer_versions(LayerName=name)["LayerVersions"] == []


def test_layer_from_a_bucket(server, lam):
    s3 = make_client(server.endpoint)
    bucket = unique("layer-src")
    s3.create_bucket(Bucket=bucket)
    try:
        data = layer_zip({"python/froms3.py": "X = 1\n"})
        s3.put_object(Bucket=bucket, Key="layer.zip", Body=data)
        v = lam.publish_layer_version(LayerName=unique("s3"), Content={"S3Bucket": bucket, "S3Key": "layer.zip"})
        assert v["Content"]["CodeSize"] == len(data)
        with pytest.raises(ClientError) as e:
            lam.publish_layer_version(LayerName=unique("s3"), Content={"S3Bucket": bucket, "S3Key": "missing.zip"})
        assert error(e) == ("InvalidParameterValueException", 400)
    finally:
        purge_bucket(s3, bucket)


def test_list_layers_shows_the_newest_matching_version(lam):
    prefix = unique("ls")
    a, b = prefix + "-a", prefix + "-b"
    publish(lam, a, {"f": "1"}, CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["arm64"])
    publish(lam, a, {"f": "2"}, CompatibleRuntimes=["nodejs20.x"])
    publish(lam, b, {"f": "3"}, CompatibleRuntimes=["python3.12"])

    def mine(**kw):
        layers, marker = [], None
        while True:
            page = lam.list_layers(**kw, **({"Marker": marker} if marker else {}), MaxItems=1)
            layers += [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in page["Layers"] if x["LayerName"].startswith(prefix)]
            marker = page.get("NextMarker")
            if not marker:
                return layers
    assert mine() == [(a, 2), (b, 1)]
    assert mine(CompatibleRuntime="python3.12") == [(a, 1), (b, 1)]
    assert mine(CompatibleArchitecture="arm64") == [(a, 1)]
    with pytest.raises(ClientError) as e:
        lam.list_layers(CompatibleRuntime="runtimedoesnotexist")
    assert error(e) == ("ValidationException", 400)
    assert error_message(e).startswith("1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' "
                                       "failed to satisfy constraint: Member must satisfy enum value set: [")


def test_layer_version_errors(lam, account):
    name = unique("err")
    publish(lam, name, {"f": "1"})
    for version in [0, -1]:
        with pytest.raises(ClientError) as e:
            lam.get_layer_version(LayerName=name, VersionNumber=version)
        assert (*error(e), error_message(e)) == ("InvalidParameterValueException", 400, "Layer Version Cannot be less than 1")
    with pytest.raises(ClientError) as e:
        lam.get_layer_version(LayerName=unique("none"), VersionNumber=1)
    assert error(e) == ("ResourceNotFoundException", 404)
    unversioned = f"arn:aws:lambda:us-east-1:{account}:layer:{name}"
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_by_arn(Arn=unversioned)
    assert error(e) == ("ValidationException", 400)
    assert error_message(e).startswith(f"1 validation error detected: Value '{unversioned}' at 'arn' failed to satisfy constraint")
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_by_arn(Arn=unversioned + ":9")
    assert (*error(e), error_message(e)) == ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
    with pytest.raises(ClientError) as e:
        publish(lam, name, {"f": "1"}, CompatibleRuntimes=["invalidruntime"], CompatibleArchitectures=["invalidarch"])
    assert error(e) == ("ValidationException", 400)
    assert error_message(e).startswith("2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes' failed")


def test_layer_version_policy(lam, account):
    name = unique("pol")
    publish(lam, name, {"f": "1"})
    resource = f"arn:aws:lambda:us-east-1:{account}:layer:{name}:1"
    with pytest.raises(ClientError) as e:
        lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert (*error(e), error_message(e)) == ("ResourceNotFoundException", 404, "No policy is associated with the given resource.")
    s1 = lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s1", Action="lambda:GetLayerVersion",
                                          Principal="*")
    assert json.loads(s1["Statement"]) == {"Sid": "s1", "Effect": "Allow", "Principal": "*", "Action": "lambda:GetLayerVersion",
                                           "Resource": resource}
    s2 = lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s2", Action="lambda:GetLayerVersion",
                                          Principal="111122223333", RevisionId=s1["RevisionId"])
    assert json.loads(s2["Statement"])["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    policy = lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert policy["RevisionId"] == s2["RevisionId"]
    assert [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]] == ["s1", "s2"]

    cases = [
        (lambda: lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s1", Action="lambda:GetLayerVersion", Principal="*"),
         ("ResourceConflictException", 409, "The statement id (s1) provided already exists. Please provide a new statement id, or remove the existing statement.")),
        (lambda: lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s3", Action="*", Principal="*"),
         ("ValidationException", 400, "1 validation error detected: Value '*' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion")),
        (lambda: lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s3", Action="lambda:GetLayerVersion", Principal="*", RevisionId="wrong"),
         ("PreconditionFailedException", 412, "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id")),
        (lambda: lam.add_layer_version_permission(LayerName=name, VersionNumber=2, StatementId="s3", Action="lambda:GetLayerVersion", Principal="*"),
         ("ResourceNotFoundException", 404, f"Layer version arn:aws:lambda:us-east-1:{account}:layer:{name}:2 does not exist.")),
        (lambda: lam.get_layer_version_policy(LayerName=name + "-doesnotexist", VersionNumber=1),
         ("ResourceNotFoundException", 404, f"Layer version arn:aws:lambda:us-east-1:{account}:layer:{name}-doesnotexist:1 does not exist.")),
        (lambda: lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="doesnotexist"),
         ("ResourceNotFoundException", 404, "Statement doesnotexist is not found in resource policy.")),
        (lambda: lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s1", RevisionId="wrong"),
         ("PreconditionFailedException", 412, "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id")),
    ]
    for call, expected in cases:
        with pytest.raises(ClientError) as e:
            call()
        assert (*error(e), error_message(e)) == expected
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="s2")
    assert [s["Sid"] for s in json.loads(lam.get_layer_version_policy(LayerName=name, VersionNumber=1)["Policy"])["Statement"]] == ["s1"]


def test_function_layers_are_checked(fns, lam, account):
    name = unique("fnerr")
    v1 = publish(lam, name, {"f": "1"})["LayerVersionArn"]
    v2 = publish(lam, name, {"f": "2"})["LayerVersionArn"]
    base = f"arn:aws:lambda:us-east-1:{account}:layer:"
    cases = [
        ([v1, v2], "InvalidParameterValueException",
         f"Two different versions of the same layer are not allowed to be referenced in the same function. {v1} and {v2} are versions of the same layer."),
        ([base + "doesnotexist:1"], "InvalidParameterValueException", f"Layer version {base}doesnotexist:1 does not exist."),
        ([base + name + ":9"], "InvalidParameterValueException", f"Layer version {base}{name}:9 does not exist."),
        ([f"arn:aws:lambda:eu-west-1:{account}:layer:{name}:1"], "InvalidParameterValueException",
         "Layers are not in the same region as the function. Layers are expected to be in region us-east-1."),
        ([v1] * 6, "InvalidParameterValueException", "Cannot reference more than 5 layers."),
    ]
    for layers, code, message in cases:
        with pytest.raises(ClientError) as e:
            fns.create(tag="bad", Layers=layers)
        assert (*error(e), error_message(e)) == (code, 400, message), layers
    with pytest.raises(ClientError) as e:
        fns.create(tag="bad", Layers=[base + name])
    assert error(e) == ("ValidationException", 400)
    assert error_message(e).startswith(f"1 validation error detected: Value '[{base}{name}]' at 'layers' failed to satisfy constraint")
    ok = fns.create(tag="ok")["FunctionName"]
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=ok, Layers=[base + name + ":9"])
    assert error(e) == ("InvalidParameterValueException", 400)


def test_python_function_imports_a_layer_module_and_later_layers_override(fns, lam):
    lib = publish(lam, unique("pylib"), {
        "python/greeting.py": "WORD = 'from layer one'\n",
        f"{PY_LIB}/sitepkg.py": "VALUE = 'site-packages'\n",
        "python/shared.txt": "one\n",
        "bin/tool": "#!/bin/sh\necho tool\n",
    })
    override = publish(lam, unique("pyover"), {"python/greeting.py": "WORD = 'from layer two'\n"})
    code = zip_bytes({"app.py": "import os, shutil\n\n\ndef handler(event, context):\n"
                                "    import greeting, sitepkg\n"
                                "    shared = [p for p in os.environ['PYTHONPATH'].split(':') if p.endswith('/python')][0]\n"
                                "    return {'word': greeting.WORD, 'site': sitepkg.VALUE,\n"
                                "            'shared': open(os.path.join(shared, 'shared.txt')).read(),\n"
                                "            'tool': shutil.which('tool') is not None}\n"})
    created = fns.create(handler="app.handler", code=code, tag="py",
                         Layers=[lib["LayerVersionArn"], override["LayerVersionArn"]])
    assert [(x["Arn"], x["CodeSize"]) for x in created["Layers"]] == [
        (lib["LayerVersionArn"], lib["Content"]["CodeSize"]), (override["LayerVersionArn"], override["Content"]["CodeSize"])]
    name = created["FunctionName"]
    got = lam.get_function(FunctionName=name)["Configuration"]["Layers"]
    assert [x["Arn"] for x in got] == [lib["LayerVersionArn"], override["LayerVersionArn"]]
    out = read_payload(lam.invoke(FunctionName=name))
    assert out == {"word": "from layer two", "site": "site-packages", "shared": "one\n", "tool": True}, out

    # Reversed order: the first layer's file wins now; the change reaches the next invoke.
    lam.update_function_configuration(FunctionName=name, Layers=[override["LayerVersionArn"], lib["LayerVersionArn"]])
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert read_payload(lam.invoke(FunctionName=name))["word"] == "from layer one"

    # A deleted layer version stays usable by the functions that reference it, as in AWS.
    lam.delete_layer_version(LayerName=lib["LayerArn"], VersionNumber=lib["Version"])
    lam.update_function_configuration(FunctionName=name, Description="again")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert read_payload(lam.invoke(FunctionName=name))["word"] == "from layer one"

    # Without layers the module is gone.
    lam.update_function_configuration(FunctionName=name, Layers=[])
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    failed = lam.invoke(FunctionName=name)
    assert failed["FunctionError"] == "Unhandled"
    assert read_payload(failed)["errorType"] == "ModuleNotFoundError"


def test_node_function_requires_a_layer_package(fns, lam):
    layer = publish(lam, unique("nodelib"), {
        "nodejs/node_modules/left-pad/index.js": "module.exports = (s, n) => String(s).padStart(n, '0');\n",
        "nodejs/node_modules/left-pad/package.json": '{"name": "left-pad", "version": "1.0.0", "main": "index.js"}\n',
        "nodejs/node20/node_modules/versioned/index.js": "module.exports = 'node20';\n",
    }, CompatibleRuntimes=[NODE])
    code = zip_bytes({"index.js": "exports.handler = async () => ({ padded: require('left-pad')(7, 3), v: require('versioned') });\n"})
    name = fns.create(handler="index.handler", runtime=NODE, code=code, tag="node", Layers=[layer["LayerVersionArn"]])["FunctionName"]
    assert read_payload(lam.invoke(FunctionName=name)) == {"padded": "007", "v": "node20"}
