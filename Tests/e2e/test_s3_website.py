"""Static website hosting: the website endpoint (Host `<bucket>.s3-website.localhost` and its regional forms,
or the path `/_cloudless/website/<bucket>/`) serves index and error documents, folder redirects, routing rules
and RedirectAllRequestsTo, unauthenticated, with S3's HTML error pages; and the website configuration itself."""
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import error, error_message, make_client, purge_bucket

CONFIG = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "error.html"},
    "RoutingRules": [
        {"Condition": {"KeyPrefixEquals": "old/"}, "Redirect": {"ReplaceKeyPrefixWith": "new/"}},
        {"Condition": {"KeyPrefixEquals": "images/", "HttpErrorCodeReturnedEquals": "404"},
         "Redirect": {"HostName": "cdn.example.com", "Protocol": "https", "ReplaceKeyWith": "placeholder.png",
                      "HttpRedirectCode": "302"}},
    ],
}


@pytest.fixture(scope="module")
def site(s3):
    """A React-style build: index, error page, a sub-folder with its own index, an image and a redirecting object."""
    name = "web-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    html = {"index.html": b"<h1>home</h1>", "error.html": b"<h1>oops</h1>", "docs/index.html": b"<h1>docs</h1>",
            "new/page.html": b"new page", "images/logo.png": b"PNG"}
    for key, body in html.items():
        s3.put_object(Bucket=name, Key=key, Body=body, ContentType="text/html" if key.endswith(".html") else "image/png")
    s3.put_object(Bucket=name, Key="moved.html", Body=b"", WebsiteRedirectLocation="/docs/")
    s3.put_bucket_website(Bucket=name, WebsiteConfiguration=CONFIG)
    yield name
    purge_bucket(s3, name)


def via_host(server, bucket, path, host_form="s3-website", method="GET", **kw):
    return requests.request(method, f"http://127.0.0.1:{server.port}{path}", allow_redirects=False, timeout=10,
                            headers={"Host": f"{bucket}.{host_form}.localhost:{server.port}", **kw.pop("headers", {})}, **kw)


def via_path(server, bucket, path, method="GET", **kw):
    return requests.request(method, f"http://127.0.0.1:{server.port}/_cloudless/website/{bucket}{path}", allow_redirects=False,
                            timeout=10, **kw)


def test_index_documents_and_folders(server, site):
    for form in ["s3-website", "s3-website-us-east-1", "s3-website.us-east-1"]:
        r = via_host(server, site, "/", form)
        assert r.status_code == 200 and r.content == b"<h1>home</h1>", form
        assert r.headers["Content-Type"] == "text/html"
    r = via_host(server, site, "/docs/")
    assert r.status_code == 200 and r.content == b"<h1>docs</h1>"
    r = via_host(server, site, "/docs")
    assert r.status_code == 302 and r.headers["Location"] == "/docs/"
    r = via_path(server, site, "/docs")
    assert r.status_code == 302 and r.headers["Location"] == f"/_cloudless/website/{site}/docs/"
    r = via_path(server, site, "/")
    assert r.status_code == 200 and r.content == b"<h1>home</h1>"
    r = via_path(server, site, "/images/logo.png")
    assert r.status_code == 200 and r.content == b"PNG" and r.headers["Content-Type"] == "image/png"
    r = via_host(server, site, "/", method="HEAD")
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(b"<h1>home</h1>"))


def test_error_document_and_redirects(server, site):
    r = via_host(server, site, "/nope.html")
    assert r.status_code == 404 and r.content == b"<h1>oops</h1>"
    r = via_host(server, site, "/moved.html")
    assert r.status_code == 301 and r.headers["Location"] == "/docs/"
    r = via_host(server, site, "/old/page.html")
    assert r.status_code == 301
    assert r.headers["Location"] == f"http://{site}.s3-website.localhost:{server.port}/new/page.html"
    r = via_path(server, site, "/old/page.html")
    assert r.status_code == 301 and r.headers["Location"] == f"http://127.0.0.1:{server.port}/_cloudless/website/{site}/new/page.html"
    # The 404 rule applies only once the key is missing.
    assert via_host(server, site, "/images/logo.png").status_code == 200
    r = via_host(server, site, "/images/missing.png")
    assert r.status_code == 302 and r.headers["Location"] == "https://cdn.example.com/placeholder.png"


def test_redirect_all_requests(s3, server):
    name = "redir-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    try:
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "www.example.com",
                                                                                          "Protocol": "https"}})
        r = via_host(server, name, "/a/b.html")
        assert r.status_code == 301 and r.headers["Location"] == "https://www.example.com/a/b.html"
    finally:
        purge_bucket(s3, name)


def test_html_errors(s3, server, bucket):
    r = via_host(server, bucket, "/")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")
    request_id = r.headers["x-amz-request-id"]
    assert r.text == ("<html>\n<head><title>404 Not Found</title></head>\n<body>\n<h1>404 Not Found</h1>\n<ul>\n"
                      "<li>Code: NoSuchWebsiteConfiguration</li>\n"
                      "<li>Message: The specified bucket does not have a website configuration</li>\n"
                      f"<li>BucketName: {bucket}</li>\n<li>RequestId: {request_id}</li>\n"
                      f"<li>HostId: {r.headers['x-amz-id-2']}</li>\n</ul>\n<hr/>\n</body>\n</html>\n")
    r = via_path(server, "no-such-" + uuid.uuid4().hex[:8], "/")
    assert r.status_code == 404 and "<li>Code: NoSuchBucket</li>" in r.text
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"},
                                                               "ErrorDocument": {"Key": "error.html"}})
    r = via_host(server, bucket, "/")
    assert r.status_code == 404
    assert "<li>Code: NoSuchKey</li>\n<li>Message: The specified key does not exist.</li>\n<li>Key: index.html</li>" in r.text
    assert ("<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n<li>Code: NoSuchKey</li>\n"
            "<li>Message: The specified key does not exist.</li>\n<li>Key: error.html</li>\n</ul>\n<hr/>") in r.text
    r = via_host(server, bucket, "/dir/")
    assert "<li>Key: dir/index.html</li>" in r.text
    r = via_host(server, bucket, "/x", method="PUT", data=b"x")
    assert r.status_code == 405 and "<li>Code: MethodNotAllowed</li>" in r.text


def test_website_answers_with_cors_headers(s3, server, site):
    s3.put_bucket_cors(Bucket=site, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["http://app.test"], "AllowedMethods": ["GET"]}]})
    try:
        r = via_host(server, site, "/", headers={"Origin": "http://app.test"})
        assert r.headers["Access-Control-Allow-Origin"] == "http://app.test"
        assert "Access-Control-Allow-Origin" not in via_host(server, site, "/", headers={"Origin": "http://other.test"}).headers
    finally:
        s3.delete_bucket_cors(Bucket=site)


def test_website_is_served_unsigned_under_strict_auth(local_strict_server):
    s3 = make_client(local_strict_server.endpoint)
    name = "strict-web-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    try:
        s3.put_object(Bucket=name, Key="index.html", Body=b"hi", ContentType="text/html")
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
        assert via_path(local_strict_server, name, "/").content == b"hi"
        assert via_host(local_strict_server, name, "/").content == b"hi"
        assert requests.get(f"{local_strict_server.endpoint}/{name}/index.html", timeout=10).status_code == 403
    finally:
        purge_bucket(s3, name)


def test_website_configuration_crud_and_validation(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket=bucket)
    assert error(e) == ("NoSuchWebsiteConfiguration", 404)
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=CONFIG)
    got = s3.get_bucket_website(Bucket=bucket)
    assert {k: got[k] for k in CONFIG} == CONFIG
    invalid = [
        ({"IndexDocument": {"Suffix": "/index.html"}}, "InvalidArgument", "The IndexDocument Suffix is not well formed"),
        ({"IndexDocument": {"Suffix": ""}}, "InvalidArgument", "The IndexDocument Suffix is not well formed"),
        ({"RedirectAllRequestsTo": {"HostName": "x.com"}, "IndexDocument": {"Suffix": "index.html"}}, "InvalidArgument",
         "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules."),
        ({"ErrorDocument": {"Key": "error.html"}}, "InvalidArgument",
         "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"),
        ({"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [{"Redirect": {"Protocol": "ftp"}}]}, "InvalidRequest",
         "Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically."),
        ({"IndexDocument": {"Suffix": "index.html"},
          "RoutingRules": [{"Redirect": {"ReplaceKeyPrefixWith": "a", "ReplaceKeyWith": "b"}}]}, "InvalidRequest",
         "You can only define ReplaceKeyPrefix or ReplaceKey but not both."),
        ({"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [{"Condition": {}, "Redirect": {"HostName": "x.com"}}]},
         "InvalidRequest",
         "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present."),
    ]
    for config, code, message in invalid:
        with pytest.raises(ClientError) as e:
            s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)
        assert error(e) == (code, 400) and error_message(e) == message, config
    got = s3.get_bucket_website(Bucket=bucket)
    assert {k: got[k] for k in CONFIG} == CONFIG
    assert s3.delete_bucket_website(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket=bucket)
    assert error(e) == ("NoSuchWebsiteConfiguration", 404)
