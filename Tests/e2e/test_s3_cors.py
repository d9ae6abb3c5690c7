"""CORS in action: unsigned OPTIONS preflights and the Access-Control-* headers of actual requests follow the
bucket's rules as S3 answers them (LocalStack's AWS recordings of test_s3_cors), also under --strict-auth,
and a real browser (headless Chromium) is let through or blocked by them."""
import html
import shutil
import subprocess
import uuid

import pytest
import requests

from helpers import make_client, purge_bucket

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / "
               "Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")


def cors_headers(r):
    return {k: v for k, v in r.headers.items() if k.lower().startswith("access-control-") or k.lower() == "vary"}


def options(url, origin=None, method=None, headers=None):
    h = {}
    if origin:
        h["Origin"] = origin
    if method:
        h["Access-Control-Request-Method"] = method
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=h, timeout=10)


def xml_field(r, name):
    text = r.text
    start = text.index(f"<{name}>") + len(name) + 2
    return html.unescape(text[start:text.index(f"</{name}>")])


@pytest.fixture
def obj(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="test-cors", Body=b"test-cors")
    return f"{endpoint}/{bucket}/test-cors"


def test_preflight_without_origin_or_configuration(s3, bucket, endpoint, obj):
    r = options(obj)
    assert r.status_code == 400 and xml_field(r, "Code") == "BadRequest"
    assert xml_field(r, "Message") == "Insufficient information. Origin request header needed."
    r = options(f"{endpoint}/{bucket}", origin="http://x.test", method="PUT")
    assert r.status_code == 403 and xml_field(r, "Code") == "AccessForbidden"
    assert xml_field(r, "Message") == "CORSResponse: CORS is not enabled for this bucket."
    assert xml_field(r, "Method") == "PUT" and xml_field(r, "ResourceType") == "BUCKET"
    r = options(f"{endpoint}/no-such-bucket-{uuid.uuid4().hex[:8]}", origin="http://x.test")
    assert r.status_code == 403 and xml_field(r, "Message") == "CORSResponse: Bucket not found"
    # Without rules an actual request gets no CORS headers.
    r = requests.get(obj, headers={"Origin": "http://x.test"}, timeout=10)
    assert r.status_code == 200 and cors_headers(r) == {}


def test_origin_matching(s3, bucket, obj):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://localhost:4200"], "AllowedMethods": ["GET", "PUT"], "MaxAgeSeconds": 3000, "AllowedHeaders": ["*"]}]})
    expected = {"Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "GET, PUT",
                "Access-Control-Allow-Origin": "https://localhost:4200", "Access-Control-Max-Age": "3000", "Vary": VARY}
    r = options(obj, "https://localhost:4200", "PUT")
    assert r.status_code == 200 and cors_headers(r) == expected and r.content == b""
    r = requests.get(obj, headers={"Origin": "https://localhost:4200"}, timeout=10)
    assert r.content == b"test-cors" and cors_headers(r) == expected
    # A Referer is no Origin.
    r = requests.get(obj, headers={"Referer": "https://localhost:4200"}, timeout=10)
    assert cors_headers(r) == {}
    r = options(obj, "http://localhost:4200", "PUT")
    assert r.status_code == 403 and xml_field(r, "Message") == NOT_ALLOWED
    assert xml_field(r, "Method") == "PUT" and xml_field(r, "ResourceType") == "OBJECT"
    assert cors_headers(requests.get(obj, headers={"Origin": "http://localhost:4200"}, timeout=10)) == {}

    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"], "MaxAgeSeconds": 3000, "AllowedHeaders": ["*"]}]})
    wildcard = {"Access-Control-Allow-Methods": "GET, PUT", "Access-Control-Allow-Origin": "*", "Access-Control-Max-Age": "3000",
                "Vary": VARY}
    assert cors_headers(options(obj, "http://random:1234", "PUT")) == wildcard
    assert cors_headers(requests.get(obj, headers={"Origin": "http://random:1234"}, timeout=10)) == wildcard

    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["http://*.origin.com"], "AllowedMethods": ["GET", "PUT"], "MaxAgeSeconds": 3000}]})
    r = options(obj, "http://test.origin.com", "GET")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "http://test.origin.com"
    assert options(obj, "http://test.origin.com/", "GET").status_code == 403


def test_method_and_header_matching(s3, bucket, obj):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://localhost:4200"], "AllowedMethods": ["GET"], "MaxAgeSeconds": 3000,
         "AllowedHeaders": ["x-amz-request-payer", "x-amz-expected-bucket-owner"]}]})
    r = options(obj, "https://localhost:4200", "GET")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Methods"] == "GET"
    assert "Access-Control-Allow-Headers" not in r.headers
    r = options(obj, "https://localhost:4200", "GET", headers="x-amz-request-payer, X-Amz-Expected-Bucket-Owner")
    assert r.headers["Access-Control-Allow-Headers"] == "x-amz-request-payer, x-amz-expected-bucket-owner"
    assert options(obj, "https://localhost:4200", "GET", headers="x-other").status_code == 403
    r = options(obj, "https://localhost:4200", "PUT")
    assert r.status_code == 403 and xml_field(r, "Method") == "PUT"
    # An actual PUT is not one the rule allows: no CORS headers, but the PUT itself works.
    r = requests.put(obj, data=b"new", headers={"Origin": "https://localhost:4200"}, timeout=10)
    assert r.status_code == 200 and cors_headers(r) == {}


def test_expose_headers_and_errors_carry_cors_headers(s3, bucket, endpoint, obj):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "ExposeHeaders": ["x-amz-id-2", "x-amz-request-id", "x-amz-request-payer"]}]})
    expected = {"Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "x-amz-id-2, x-amz-request-id, x-amz-request-payer", "Vary": VARY}
    assert cors_headers(options(obj, "http://a.test", "GET")) == expected
    r = requests.get(f"{endpoint}/{bucket}/missing", headers={"Origin": "http://a.test"}, timeout=10)
    assert r.status_code == 404 and cors_headers(r) == expected


def test_preflight_passes_unsigned_under_strict_auth(local_strict_server):
    s3 = make_client(local_strict_server.endpoint)
    name = "cors-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    try:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PUT"]}]})
        r = options(f"{local_strict_server.endpoint}/{name}/upload.bin", "http://app.test", "PUT")
        assert r.status_code == 200 and r.headers["Access-Control-Allow-Methods"] == "PUT"
        # Everything else still needs a signature.
        assert requests.get(f"{local_strict_server.endpoint}/{name}/upload.bin", timeout=10).status_code == 403
    finally:
        purge_bucket(s3, name)


PAGE = """<!doctype html><html><body><div id="out">pending</div><script>
fetch("%s").then(r => r.ok ? r.text() : Promise.reject(r.status))
  .then(t => { document.getElementById("out").textContent = "ok:" + t; })
  .catch(() => { document.getElementById("out").textContent = "blocked"; });
</script></body></html>"""


def chromium_result(url):
    """What the page at `url` wrote into its DOM once its fetch settled."""
    p = subprocess.run([shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                        "--dump-dom", url], capture_output=True, text=True, timeout=60)
    start = p.stdout.find('<div id="out">')
    assert start >= 0, p.stdout + p.stderr
    return p.stdout[start + len('<div id="out">'):p.stdout.index("</div>", start)]


def test_browser_fetch_is_allowed_or_blocked_by_the_bucket_rules(s3, endpoint, server):
    """A page served by the website endpoint (origin http://127.0.0.1:PORT) fetches an object of another bucket
    through http://localhost:PORT: cross-origin, so Chromium lets the page read it only when a rule allows it."""
    site, data = "site-" + uuid.uuid4().hex[:12], "data-" + uuid.uuid4().hex[:12]
    for b in (site, data):
        s3.create_bucket(Bucket=b)
    try:
        s3.put_bucket_website(Bucket=site, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
        target = f"http://localhost:{server.port}/{data}/greeting.txt"
        s3.put_object(Bucket=site, Key="index.html", Body=(PAGE % target).encode(), ContentType="text/html")
        s3.put_object(Bucket=data, Key="greeting.txt", Body=b"hello", ContentType="text/plain")
        page = f"{endpoint}/_cloudless/website/{site}/"
        assert chromium_result(page) == "blocked"
        s3.put_bucket_cors(Bucket=data, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": [f"http://127.0.0.1:{server.port}"], "AllowedMethods": ["GET"]}]})
        assert chromium_result(page) == "ok:hello"
        s3.put_bucket_cors(Bucket=data, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": ["http://elsewhere.test"], "AllowedMethods": ["GET"]}]})
        assert chromium_result(page) == "blocked"
    finally:
        for b in (site, data):
            purge_bucket(s3, b)
