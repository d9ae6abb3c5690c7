"""Browser form uploads (PostObject) with presigned POST policies, on a --strict-auth server so that the form's
signature is really checked: `curl -F` as a browser-less form, the policy's conditions (eq, starts-with,
content-length-range, fields the policy does not cover), `${filename}`, success_action_status and
success_action_redirect, an expired policy and a tampered signature.

Expected answers are AWS's (its S3 POST documentation and error texts)."""
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
import requests

from helpers import make_client

pytestmark = pytest.mark.strict_auth


def code_and_message(r):
    root = ET.fromstring(r.content)
    return root.findtext("Code"), root.findtext("Message")


def post(form, files):
    return requests.post(form["url"], data=form["fields"], files=files, allow_redirects=False, timeout=30)


def test_curl_form_upload_with_filename_and_metadata(s3, bucket, tmp_path):
    form = s3.generate_presigned_post(
        bucket, "uploads/${filename}", Fields={"Content-Type": "text/plain", "x-amz-meta-origin": "curl"},
        Conditions=[["starts-with", "$key", "uploads/"], {"Content-Type": "text/plain"}, {"x-amz-meta-origin": "curl"}],
        ExpiresIn=300)
    src = tmp_path / "notes.txt"
    src.write_bytes(b"sent by curl -F")
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    for k, v in form["fields"].items():
        args += ["-F", f"{k}={v}"]
    args += ["-F", f"file=@{src}", form["url"]]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.stdout == "204", out.stderr
    got = s3.get_object(Bucket=bucket, Key="uploads/notes.txt")
    assert got["Body"].read() == b"sent by curl -F"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"origin": "curl"}


def test_starts_with_condition(s3, bucket):
    form = s3.generate_presigned_post(bucket, "user/eric/photo.jpg", Conditions=[["starts-with", "$key", "user/eric/"]])
    assert post(form, {"file": ("p", b"jpg")}).status_code == 204
    form = s3.generate_presigned_post(bucket, "user/other/photo.jpg", Conditions=[["starts-with", "$key", "user/eric/"]])
    # boto3 adds {"key": ...} itself; a policy that only has the prefix rule needs the key field changed by hand.
    form["fields"]["key"] = "user/mallory/photo.jpg"
    r = post(form, {"file": ("p", b"jpg")})
    assert r.status_code == 403
    assert code_and_message(r)[0] == "AccessDenied"
    assert "Invalid according to Policy: Policy Condition failed:" in code_and_message(r)[1]
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="user/mallory/photo.jpg")


def test_eq_condition_and_extra_fields(s3, bucket):
    form = s3.generate_presigned_post(bucket, "eq.txt", Fields={"x-amz-meta-tag": "blue"}, Conditions=[{"x-amz-meta-tag": "blue"}])
    form["fields"]["x-amz-meta-tag"] = "red"
    r = post(form, {"file": ("f", b"x")})
    assert r.status_code == 403
    assert code_and_message(r) == ("AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-meta-tag", "blue"]')
    # A field the policy does not mention is refused.
    form = s3.generate_presigned_post(bucket, "extra.txt")
    form["fields"]["x-amz-meta-sneaky"] = "1"
    r = post(form, {"file": ("f", b"x")})
    assert r.status_code == 403
    assert code_and_message(r) == ("AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky")
    # ...unless its name starts with x-ignore-.
    form = s3.generate_presigned_post(bucket, "ignored.txt")
    form["fields"]["x-ignore-anything"] = "1"
    assert post(form, {"file": ("f", b"x")}).status_code == 204


def test_content_length_range(s3, bucket):
    form = s3.generate_presigned_post(bucket, "sized.bin", Conditions=[["content-length-range", 5, 10]])
    assert post(form, {"file": ("f", b"12345678")}).status_code == 204
    r = post(form, {"file": ("f", b"123")})
    assert r.status_code == 400
    assert code_and_message(r) == ("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
    r = post(form, {"file": ("f", b"x" * 11)})
    assert r.status_code == 400
    assert code_and_message(r)[0] == "EntityTooLarge"


def test_success_action_redirect_and_status(s3, bucket):
    target = "http://example.test/done"
    form = s3.generate_presigned_post(bucket, "redirect.txt", Fields={"success_action_redirect": target},
                                      Conditions=[{"success_action_redirect": target}])
    r = post(form, {"file": ("f", b"redirected")})
    assert r.status_code == 303
    location = urllib.parse.urlsplit(r.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == target
    query = dict(urllib.parse.parse_qsl(location.query))
    etag = s3.head_object(Bucket=bucket, Key="redirect.txt")["ETag"]
    assert query == {"bucket": bucket, "key": "redirect.txt", "etag": etag}
    form = s3.generate_presigned_post(bucket, "status200.txt", Fields={"success_action_status": "200"},
                                      Conditions=[{"success_action_status": "200"}])
    r = post(form, {"file": ("f", b"ok")})
    assert (r.status_code, r.content) == (200, b"")


@pytest.mark.parametrize("version", ["s3", "s3v4"])
def test_expired_policy_and_tampered_signature(endpoint, s3, bucket, version):
    # boto3's default path-style client signs POST policies with SigV2 (`signature`); s3v4 with `x-amz-signature`.
    signer = make_client(endpoint, signature_version=version)
    form = signer.generate_presigned_post(bucket, "late.txt", ExpiresIn=-60)
    r = post(form, {"file": ("f", b"x")})
    assert r.status_code == 403
    assert code_and_message(r) == ("AccessDenied", "Invalid according to Policy: Policy expired.")
    form = signer.generate_presigned_post(bucket, "forged.txt")
    field = "x-amz-signature" if version == "s3v4" else "signature"
    sig = form["fields"][field]
    form["fields"][field] = ("A" if sig[0] != "A" else "B") + sig[1:]
    r = post(form, {"file": ("f", b"x")})
    assert r.status_code == 403
    assert code_and_message(r)[0] == "SignatureDoesNotMatch"
    for key in ("late.txt", "forged.txt"):
        with pytest.raises(Exception):
            s3.head_object(Bucket=bucket, Key=key)
