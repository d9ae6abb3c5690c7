"""Elastic Load Balancing v2: the control plane (boto3, the aws CLI v2) and real traffic through listeners to local
HTTP targets (python http.server threads on 127.0.0.x), health checks on the emulator's clock, draining, rules,
lambda targets, TCP listeners, and a restart."""
import hashlib
import http.client
import json
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import error, make_client, tool_env, zip_bytes
from server import Server, free_port


@pytest.fixture(scope="module")
def server():
    """Its own server: the module restarts it."""
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def elb(server):
    return make_client(server.endpoint, "elbv2")


class Target:
    """An HTTP target on `host`: answers JSON naming itself; `/health` answers `health_status`; `/slow` waits
    `slow_seconds` first."""

    def __init__(self, host="127.0.0.1", name=None):
        outer = self
        self.health_status = 200
        self.slow_seconds = 2.0
        self.hits = 0
        self.seen_headers = {}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path.startswith("/health"):
                    return self.answer(outer.health_status, b"health")
                outer.hits += 1
                outer.seen_headers = dict(self.headers)
                if self.path.startswith("/slow"):
                    time.sleep(outer.slow_seconds)
                self.answer(200, json.dumps({"target": outer.name, "path": self.path}).encode())

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.hits += 1
                self.answer(200, json.dumps({"target": outer.name, "echo": body.decode()}).encode())

            def answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = host, self.httpd.server_address[1]
        self.name = name or f"{host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def targets():
    made = []

    def make(host="127.0.0.1", name=None):
        t = Target(host, name)
        made.append(t)
        return t
    yield make
    for t in made:
        t.close()


def advance(server, seconds):
    requests.post(server.endpoint + "/_cloudless/clock", json={"advance": seconds}, timeout=5).raise_for_status()


def bound(server, listener_arn):
    """The address the listener's own port is bound to (GET /_cloudless/elbv2/listeners)."""
    rows = requests.get(server.endpoint + "/_cloudless/elbv2/listeners", timeout=5).json()["listeners"]
    return next(r["address"] for r in rows if r["listenerArn"] == listener_arn)


def get(address, path="/", headers=None):
    host, port = address.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict(r.getheaders()), body


def wait_for(predicate, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def states(elb, tg_arn):
    return {f"{d['Target']['Id']}:{d['Target'].get('Port')}": d["TargetHealth"]
            for d in elb.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]}


def load_balancer(elb, name):
    return elb.create_load_balancer(Name=name, Subnets=["subnet-a1", "subnet-b2"], SecurityGroups=["sg-1"])["LoadBalancers"][0]


def target_group(elb, name, port=80, **kw):
    args = dict(Name=name, Protocol="HTTP", Port=port, VpcId="vpc-1", TargetType="ip", HealthCheckPath="/health",
                HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=2, UnhealthyThresholdCount=2)
    args.update(kw)
    return elb.create_target_group(**args)["TargetGroups"][0]["TargetGroupArn"]


def listener(elb, lb_arn, actions, port=None):
    return elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=port or free_port(),
                               DefaultActions=actions)["Listeners"][0]["ListenerArn"]


def healthy(elb, tg_arn, n):
    wait_for(lambda: sum(1 for h in states(elb, tg_arn).values() if h["State"] == "healthy") == n)


def test_control_plane_answers_and_errors_as_aws(elb):
    lb = load_balancer(elb, "cp-lb")
    assert lb["State"] == {"Code": "active"} and lb["Type"] == "application" and lb["Scheme"] == "internet-facing"
    assert lb["DNSName"].startswith("cp-lb-") and lb["DNSName"].endswith(".us-east-1.elb.localhost")
    assert [z["SubnetId"] for z in lb["AvailabilityZones"]] == ["subnet-a1", "subnet-b2"]
    assert load_balancer(elb, "cp-lb")["LoadBalancerArn"] == lb["LoadBalancerArn"]  # same settings: the same one
    with pytest.raises(ClientError) as e:
        elb.create_load_balancer(Name="cp-lb", Subnets=["subnet-a1", "subnet-b2"], Scheme="internal")
    assert error(e) == ("DuplicateLoadBalancerName", 400)
    with pytest.raises(ClientError) as e:
        elb.describe_load_balancers(Names=["nope"])
    assert error(e) == ("LoadBalancerNotFound", 400)
    load_balancer(elb, "cp-lb2")
    page = elb.describe_load_balancers(PageSize=1)
    assert len(page["LoadBalancers"]) == 1 and page["NextMarker"]
    rest = elb.describe_load_balancers(PageSize=400, Marker=page["NextMarker"])
    assert page["LoadBalancers"][0]["LoadBalancerName"] not in [x["LoadBalancerName"] for x in rest["LoadBalancers"]]

    tg = elb.create_target_group(Name="cp-tg", Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="ip")["TargetGroups"][0]
    assert (tg["HealthCheckPath"], tg["HealthCheckPort"], tg["HealthCheckIntervalSeconds"], tg["HealthCheckTimeoutSeconds"],
            tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"], tg["Matcher"]) == ("/", "traffic-port", 30, 5, 5, 2, {"HttpCode": "200"})
    with pytest.raises(ClientError) as e:
        elb.create_target_group(Name="cp-tg", Protocol="HTTP", Port=9090, VpcId="vpc-1", TargetType="ip")
    assert error(e) == ("DuplicateTargetGroupName", 400)
    with pytest.raises(ClientError) as e:
        elb.modify_target_group(TargetGroupArn=tg["TargetGroupArn"], Matcher={"HttpCode": "200-600"})
    assert error(e) == ("ValidationError", 400)
    with pytest.raises(ClientError) as e:
        elb.modify_target_group(TargetGroupArn=tg["TargetGroupArn"], HealthCheckTimeoutSeconds=40)
    assert error(e) == ("InvalidConfigurationRequest", 400)
    m = elb.modify_target_group(TargetGroupArn=tg["TargetGroupArn"], Matcher={"HttpCode": "200,302"}, HealthCheckPath="/up")
    assert m["TargetGroups"][0]["Matcher"] == {"HttpCode": "200,302"} and m["TargetGroups"][0]["HealthCheckPath"] == "/up"

    attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    assert attrs["deregistration_delay.timeout_seconds"] == "300" and attrs["stickiness.type"] == "lb_cookie"
    assert attrs["load_balancing.algorithm.type"] == "round_robin"
    with pytest.raises(ClientError) as e:
        elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[{"Key": "nope", "Value": "1"}])
    assert error(e) == ("ValidationError", 400)
    with pytest.raises(ClientError) as e:
        elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "0"}])
    assert error(e) == ("ValidationError", 400)
    lb_attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]}
    assert lb_attrs["idle_timeout.timeout_seconds"] == "60"

    port = free_port()
    l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}], port=port)
    with pytest.raises(ClientError) as e:
        listener(elb, lb["LoadBalancerArn"], [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}], port=port)
    assert error(e) == ("DuplicateListener", 400)
    with pytest.raises(ClientError) as e:
        elb.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])
    assert error(e) == ("ResourceInUse", 400)
    assert elb.describe_target_groups(Names=["cp-tg"])["TargetGroups"][0]["LoadBalancerArns"] == [lb["LoadBalancerArn"]]

    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "204"}}]
    r1 = elb.create_rule(ListenerArn=l_arn, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/a/*"]}], Actions=fixed)["Rules"][0]
    with pytest.raises(ClientError) as e:
        elb.create_rule(ListenerArn=l_arn, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/b"]}], Actions=fixed)
    assert error(e) == ("PriorityInUse", 400)
    r2 = elb.create_rule(ListenerArn=l_arn, Priority=20, Actions=fixed,
                         Conditions=[{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-A", "Values": ["1"]}}])["Rules"][0]
    elb.set_rule_priorities(RulePriorities=[{"RuleArn": r1["RuleArn"], "Priority": 30}, {"RuleArn": r2["RuleArn"], "Priority": 5}])
    rules = elb.describe_rules(ListenerArn=l_arn)["Rules"]
    assert [(r["Priority"], r["IsDefault"]) for r in rules] == [("5", False), ("30", False), ("default", True)]
    assert rules[0]["Conditions"][0]["HttpHeaderConfig"] == {"HttpHeaderName": "X-A", "Values": ["1"]}
    with pytest.raises(ClientError) as e:
        elb.delete_rule(RuleArn=rules[-1]["RuleArn"])
    assert error(e) == ("OperationNotPermitted", 400)
    with pytest.raises(ClientError) as e:
        elb.create_rule(ListenerArn=l_arn, Priority=50001, Conditions=[{"Field": "path-pattern", "Values": ["/c"]}], Actions=fixed)
    assert error(e) == ("ValidationError", 400)

    elb.add_tags(ResourceArns=[lb["LoadBalancerArn"], tg["TargetGroupArn"]], Tags=[{"Key": "team", "Value": "web"}])
    elb.remove_tags(ResourceArns=[tg["TargetGroupArn"]], TagKeys=["team"])
    described = {d["ResourceArn"]: d["Tags"] for d in elb.describe_tags(ResourceArns=[lb["LoadBalancerArn"], tg["TargetGroupArn"]])["TagDescriptions"]}
    assert described == {lb["LoadBalancerArn"]: [{"Key": "team", "Value": "web"}], tg["TargetGroupArn"]: []}

    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    with pytest.raises(ClientError) as e:
        elb.describe_listeners(ListenerArns=[l_arn])
    assert error(e) == ("ListenerNotFound", 400)
    elb.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])  # no longer in use
    with pytest.raises(ClientError) as e:
        elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    assert error(e) == ("TargetGroupNotFound", 400)


def test_weights_split_traffic_and_headers_reach_the_target(elb, server, targets):
    a, b = targets("127.0.0.2", "a"), targets("127.0.0.3", "b")
    lb = load_balancer(elb, "weights")
    tg_a, tg_b = target_group(elb, "weights-a", a.port), target_group(elb, "weights-b", b.port)
    elb.register_targets(TargetGroupArn=tg_a, Targets=[{"Id": a.host}])
    elb.register_targets(TargetGroupArn=tg_b, Targets=[{"Id": b.host}])
    l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": tg_a, "Weight": 80}, {"TargetGroupArn": tg_b, "Weight": 20}]}}])
    healthy(elb, tg_a, 1)
    healthy(elb, tg_b, 1)
    host, port = bound(server, l_arn).rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    counts = {"a": 0, "b": 0}
    for _ in range(1000):
        c.request("GET", "/w?x=1")
        r = c.getresponse()
        counts[json.loads(r.read())["target"]] += 1
    c.close()
    assert 770 <= counts["a"] <= 830, counts
    seen = a.seen_headers
    assert seen["X-Forwarded-For"] == "127.0.0.1" and seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-Port"] == port and seen["X-Amzn-Trace-Id"].startswith("Root=1-")
    # Weight 0 gets nothing.
    elb.modify_listener(ListenerArn=l_arn, DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": tg_a, "Weight": 0}, {"TargetGroupArn": tg_b, "Weight": 1}]}}])
    assert {json.loads(get(bound(server, l_arn))[2])["target"] for _ in range(20)} == {"b"}


def test_a_target_failing_health_checks_gets_no_traffic(elb, server, targets):
    good, bad = targets("127.0.0.4", "good"), targets("127.0.0.5", "bad")
    bad.health_status = 500
    lb = load_balancer(elb, "health")
    tg = target_group(elb, "health", good.port)
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": good.host}, {"Id": bad.host, "Port": bad.port}])
    l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg}])
    healthy(elb, tg, 1)
    assert states(elb, tg)[f"127.0.0.5:{bad.port}"]["State"] == "initial"
    advance(server, 11)  # the second failed check falls due: UnhealthyThresholdCount 2
    h = wait_for(lambda: (s := states(elb, tg)[f"127.0.0.5:{bad.port}"])["State"] == "unhealthy" and s)
    assert h == {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch", "Description": "Health checks failed with these codes: [500]"}
    bad.hits = 0
    assert {json.loads(get(bound(server, l_arn))[2])["target"] for _ in range(20)} == {"good"}
    assert bad.hits == 0
    # Both unhealthy: AWS fails open and sends traffic to all of them.
    good.health_status = 500
    advance(server, 11)
    time.sleep(0.5)  # the check that fell due has run: the next move makes the second one due
    advance(server, 11)
    wait_for(lambda: all(h["State"] == "unhealthy" for h in states(elb, tg).values()))
    assert {json.loads(get(bound(server, l_arn))[2])["target"] for _ in range(10)} == {"good", "bad"}


def test_deregistration_drains_in_flight_requests_while_new_ones_go_elsewhere(elb, server, targets):
    old, new = targets("127.0.0.6", "old"), targets("127.0.0.7", "new")
    lb = load_balancer(elb, "drain")
    tg = target_group(elb, "drain", old.port)
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": old.host}])
    l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg}])
    healthy(elb, tg, 1)
    address = bound(server, l_arn)
    slow = {}
    t = threading.Thread(target=lambda: slow.update(answer=get(address, "/slow")))
    t.start()
    wait_for(lambda: old.hits == 1)
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": new.host, "Port": new.port}])
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": old.host}])
    assert states(elb, tg)[f"127.0.0.6:{old.port}"] == {"State": "draining", "Reason": "Target.DeregistrationInProgress",
                                                         "Description": "Target deregistration is in progress"}
    assert {json.loads(get(address)[2])["target"] for _ in range(5)} == {"new"}
    t.join(10)
    assert slow["answer"][0] == 200 and json.loads(slow["answer"][2])["target"] == "old"
    advance(server, 31)
    wait_for(lambda: list(states(elb, tg)) == [f"127.0.0.7:{new.port}"])


def test_rules_fixed_response_and_redirect(elb, server, targets):
    web, api = targets("127.0.0.8", "web"), targets("127.0.0.9", "api")
    lb = load_balancer(elb, "rules")
    tg_web, tg_api = target_group(elb, "rules-web", web.port), target_group(elb, "rules-api", api.port)
    elb.register_targets(TargetGroupArn=tg_web, Targets=[{"Id": web.host}])
    elb.register_targets(TargetGroupArn=tg_api, Targets=[{"Id": api.host}])
    l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg_web}])
    elb.create_rule(ListenerArn=l_arn, Priority=1, Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["api.*.test"]}}],
                    Actions=[{"Type": "forward", "TargetGroupArn": tg_api}])
    elb.create_rule(ListenerArn=l_arn, Priority=2, Conditions=[{"Field": "path-pattern", "Values": ["/teapot"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418", "ContentType": "text/plain", "MessageBody": "short and stout"}}])
    elb.create_rule(ListenerArn=l_arn, Priority=3, Conditions=[{"Field": "path-pattern", "Values": ["/old/*"]},
                                                              {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "1"}]}}],
                    Actions=[{"Type": "redirect", "RedirectConfig": {"Host": "new.#{host}", "Path": "/new/#{path}", "StatusCode": "HTTP_301"}}])
    address = bound(server, l_arn)
    port = address.rsplit(":", 1)[1]
    assert json.loads(get(address, "/x", {"Host": "api.example.test"})[2])["target"] == "api"
    assert json.loads(get(address, "/x", {"Host": "www.example.test"})[2])["target"] == "web"
    status, headers, body = get(address, "/teapot")
    assert (status, headers["Content-Type"], body) == (418, "text/plain", b"short and stout")
    status, headers, _ = get(address, "/old/page?v=1", {"Host": "site.test"})
    assert status == 301 and headers["Location"] == f"http://new.site.test:{port}/new/old/page?v=1"
    assert json.loads(get(address, "/old/page?v=2")[2])["target"] == "web"  # the query-string condition does not hold


def test_requests_by_host_through_cloudless_port_and_the_listener_port(elb, server, targets):
    t = targets("127.0.0.10", "t")
    lb = load_balancer(elb, "byhost")
    tg = target_group(elb, "byhost", t.port)
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": t.host}])
    # Cloudless's own port is taken: the listener binds another one and says where.
    l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg}], port=server.port)
    assert elb.describe_listeners(ListenerArns=[l_arn])["Listeners"][0]["Port"] == server.port
    address = bound(server, l_arn)
    assert address != f"127.0.0.1:{server.port}"
    host = lb["DNSName"]
    r = requests.post(server.endpoint + "/echo", data=b"x" * 100000, headers={"Host": f"{host}:{server.port}"}, timeout=10)
    assert r.status_code == 200 and r.json() == {"target": "t", "echo": "x" * 100000}
    out = subprocess.run(["curl", "-s", "-H", f"Host: {host}:{server.port}", f"{server.endpoint}/via-curl"],
                         capture_output=True, text=True, timeout=10).stdout
    assert json.loads(out) == {"target": "t", "path": "/via-curl"}
    out = subprocess.run(["curl", "-s", f"http://{address}/own-port"], capture_output=True, text=True, timeout=10).stdout
    assert json.loads(out) == {"target": "t", "path": "/own-port"}
    # No registered target: 503; a target that does not answer: 502.
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": t.host}])
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])
    advance(server, 301)
    wait_for(lambda: states(elb, tg) == {})
    assert get(address)[0] == 503
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.11", "Port": free_port()}])
    assert get(address)[0] == 502


def test_aws_cli_waiters(elb, server, targets, tmp_path):
    t = targets("127.0.0.12", "w")
    lb = load_balancer(elb, "waiters")
    tg = target_group(elb, "waiters", t.port)
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": t.host}])
    listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg}])
    healthy(elb, tg, 1)
    (tmp_path / "c").write_text("")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(tmp_path / "c"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "c"), AWS_PAGER="")
    for args in (["wait", "load-balancer-available", "--load-balancer-arns", lb["LoadBalancerArn"]],
                 ["wait", "target-in-service", "--target-group-arn", tg]):
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", server.endpoint, "elbv2", *args], capture_output=True, text=True,
                           env=env, timeout=60)
        assert p.returncode == 0, p.stderr
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", server.endpoint, "--output", "json", "elbv2", "describe-target-health",
                        "--target-group-arn", tg], capture_output=True, text=True, env=env, timeout=60)
    assert json.loads(p.stdout)["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy"


ALB_FUNCTION = b'''
import base64, json
def handler(event, context):
    if event["path"] == "/fail":
        raise Exception("boom")
    return {"statusCode": 201, "statusDescription": "201 Created", "isBase64Encoded": False,
            "headers": {"Content-Type": "application/json", "X-Fn": "yes"},
            "body": json.dumps({"event": event})}
'''


def test_a_lambda_target_answers_with_the_alb_event(elb, server, fns):
    fn = fns.create(handler="alb.handler", code=zip_bytes({"alb.py": ALB_FUNCTION}))
    lb = load_balancer(elb, "lambda")
    tg = elb.create_target_group(Name="lambda-tg", TargetType="lambda")["TargetGroups"][0]
    assert tg["HealthCheckEnabled"] is False and "Port" not in tg
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": fn["FunctionArn"]}])
    l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    assert states(elb, tg["TargetGroupArn"])[f"{fn['FunctionArn']}:None"] == {
        "State": "unavailable", "Reason": "Target.HealthCheckDisabled", "Description": "Health checks are disabled"}
    address = bound(server, l_arn)
    host, port = address.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    c.request("POST", "/hello?a=1&b=x%20y", body=b'{"k": 1}', headers={"Content-Type": "application/json", "X-Test": "t"})
    r = c.getresponse()
    assert (r.status, r.reason, r.getheader("X-Fn")) == (201, "Created", "yes")
    event = json.loads(r.read())["event"]
    assert event["requestContext"] == {"elb": {"targetGroupArn": tg["TargetGroupArn"]}}
    assert (event["httpMethod"], event["path"], event["body"], event["isBase64Encoded"]) == ("POST", "/hello", '{"k": 1}', False)
    assert event["queryStringParameters"] == {"a": "1", "b": "x%20y"} and event["headers"]["x-test"] == "t"
    elb.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"], Attributes=[{"Key": "lambda.multi_value_headers.enabled", "Value": "true"}])
    c.request("GET", "/m?a=1&a=2")
    event = json.loads(c.getresponse().read())["event"]
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]} and "queryStringParameters" not in event
    c.request("GET", "/fail")
    r = c.getresponse()
    r.read()
    assert r.status == 502


def test_a_network_load_balancer_forwards_tcp(elb, server):
    echo = socket.socket()
    echo.bind(("127.0.0.13", 0))
    echo.listen()

    def serve():
        # Every connection: the TCP health checks connect and close too, before or after the client's.
        while True:
            try:
                conn, _ = echo.accept()
            except OSError:
                return
            data = conn.recv(100)
            if data:
                conn.sendall(b"echo:" + data)
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
    lb = elb.create_load_balancer(Name="tcp", Type="network", Subnets=["subnet-a1"])["LoadBalancers"][0]
    tg = elb.create_target_group(Name="tcp", Protocol="TCP", Port=echo.getsockname()[1], VpcId="vpc-1", TargetType="ip")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.13"}])
    l_arn = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="TCP", Port=free_port(),
                                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])["Listeners"][0]["ListenerArn"]
    host, port = bound(server, l_arn).rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"ping")
        assert s.recv(100) == b"echo:ping"
    echo.close()


def test_a_restart_keeps_everything_and_health_checks_resume(elb, server, targets):
    t = targets("127.0.0.14", "r")
    lb = load_balancer(elb, "restart")
    tg = target_group(elb, "restart", t.port)
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": t.host}])
    port = free_port()
    l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg}], port=port)
    healthy(elb, tg, 1)
    server.stop()
    server.start()
    assert elb.describe_load_balancers(Names=["restart"])["LoadBalancers"][0]["LoadBalancerArn"] == lb["LoadBalancerArn"]
    assert elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"][0]["ListenerArn"] == l_arn
    healthy(elb, tg, 1)
    assert bound(server, l_arn) == f"127.0.0.1:{port}"
    assert json.loads(get(f"127.0.0.1:{port}", "/after")[2]) == {"target": "r", "path": "/after"}
    server.kill9()
    server.start()
    healthy(elb, tg, 1)
    assert json.loads(get(bound(server, l_arn), "/after-kill")[2])["target"] == "r"


def test_stickiness_cookies_and_the_idle_timeout(elb, server, targets):
    a, b, c = targets("127.0.0.15", "a"), targets("127.0.0.16", "b"), targets("127.0.0.17", "c")
    lb = load_balancer(elb, "sticky")
    tg1, tg2 = target_group(elb, "sticky-1", a.port), target_group(elb, "sticky-2", c.port)
    elb.register_targets(TargetGroupArn=tg1, Targets=[{"Id": a.host}, {"Id": b.host, "Port": b.port}])
    elb.register_targets(TargetGroupArn=tg2, Targets=[{"Id": c.host}])
    elb.modify_target_group_attributes(TargetGroupArn=tg1, Attributes=[{"Key": "stickiness.enabled", "Value": "true"}])
    l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": tg1, "Weight": 1}, {"TargetGroupArn": tg2, "Weight": 1}],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 300}}}])
    healthy(elb, tg1, 2)
    address = bound(server, l_arn)
    # Without cookies both groups and both targets of the first get requests.
    assert {json.loads(get(address)[2])["target"] for _ in range(40)} == {"a", "b", "c"}
    # The cookies of one answer keep the group (AWSALBTG) and the target (AWSALB).
    host, port = address.rsplit(":", 1)
    while True:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/")
        r = conn.getresponse()
        first = json.loads(r.read())["target"]
        set_cookies = r.msg.get_all("Set-Cookie")
        conn.close()
        if first in ("a", "b"):
            break
    cookies = dict(c.split(";")[0].split("=", 1) for c in set_cookies)
    assert set(cookies) == {"AWSALB", "AWSALBTG"}
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    assert {json.loads(get(address, "/", {"Cookie": cookie})[2])["target"] for _ in range(20)} == {first}
    # A target slower than the idle timeout: 504.
    elb.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "1"}])
    a.slow_seconds = b.slow_seconds = c.slow_seconds = 2
    assert get(address, "/slow")[0] == 504


class SingleThreadedTarget:
    """Python's single-threaded `HTTPServer` speaking HTTP/1.1: it serves one connection at a time, until the client
    closes it. Counts the connections it accepted, the requests and the health checks. `close_after_answer`: closes
    each connection after its answer, saying so ("header") or not ("silent")."""

    def __init__(self, host, close_after_answer=None, threaded=False):
        outer = self
        self.connections = self.requests = self.checks = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                outer.connections += 1

            def do_GET(self):
                if self.path.startswith("/health"):
                    outer.checks += 1
                else:
                    outer.requests += 1
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                if close_after_answer == "header":
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                if close_after_answer == "silent":
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = (ThreadingHTTPServer if threaded else HTTPServer)((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = host, self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_single_threaded_http11_target_stays_healthy_under_steady_traffic(elb, server):
    """Kept-alive upstream connections must leave a one-connection-at-a-time target free for its health checks."""
    t = SingleThreadedTarget("127.0.0.30")
    try:
        lb = load_balancer(elb, "single")
        tg = target_group(elb, "single", t.port, HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2)
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": t.host}])
        l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg}])
        healthy(elb, tg, 1)
        host, port = bound(server, l_arn).rsplit(":", 1)
        stop, answers, failures = threading.Event(), [], []

        def client():
            c = http.client.HTTPConnection(host, int(port), timeout=10)
            while not stop.is_set():
                try:
                    c.request("GET", "/flow")
                    r = c.getresponse()
                    r.read()
                    answers.append(r.status)
                except Exception as e:  # noqa: BLE001 - recorded, asserted below
                    failures.append(repr(e))
                    c.close()
                    c = http.client.HTTPConnection(host, int(port), timeout=10)
            c.close()

        clients = [threading.Thread(target=client) for _ in range(2)]
        for c in clients:
            c.start()
        seen = []
        try:
            # 3 checks' worth of the emulator's clock every ~0.6 s for ~8 s: 15 s of checks per second of traffic.
            deadline = time.time() + 8
            while time.time() < deadline:
                advance(server, 5)
                time.sleep(0.6)
                seen.append(next(iter(states(elb, tg).values()))["State"])
        finally:
            stop.set()
            for c in clients:
                c.join(15)
        assert not failures, failures[:3]
        assert set(answers) == {200} and len(answers) > 200, (len(answers), set(answers))
        assert set(seen) == {"healthy"}, seen
        assert t.checks >= 10, t.checks
        # Requests shared kept-alive connections (each lives at most a second or so).
        assert t.connections < len(answers) / 5, (t.connections, len(answers))
    finally:
        t.close()


@pytest.mark.parametrize("how", ["silent", "header"])
def test_a_target_closing_its_connection_after_each_answer(elb, server, how):
    t = SingleThreadedTarget("127.0.0.31" if how == "silent" else "127.0.0.32", close_after_answer=how, threaded=True)
    try:
        lb = load_balancer(elb, f"closing-{how}")
        tg = target_group(elb, f"closing-{how}", t.port)
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": t.host}])
        l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg}])
        healthy(elb, tg, 1)
        host, port = bound(server, l_arn).rsplit(":", 1)
        c = http.client.HTTPConnection(host, int(port), timeout=10)
        statuses = []
        for i in range(60):
            c.request("GET", f"/close/{i}")
            r = c.getresponse()
            statuses.append((r.status, r.read()))
            if i % 3 == 0:
                time.sleep(0.02)  # the target's close has landed before the next request
        c.close()
        assert statuses == [(200, b"ok")] * 60
        assert t.requests == 60  # none lost, none sent twice
        assert t.connections == t.requests + t.checks  # a connection per answer
    finally:
        t.close()


class StreamingTarget:
    """`/big`: 4 MiB in 64 KiB writes; `/trickle`: a head and "abc", then "def" a second later; POST: the length and
    a digest of the body it read."""

    def __init__(self, host):
        outer = self
        self.big = bytes(range(256)) * (4 * 1024 * 4)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if self.path.startswith("/health"):
                    return self.send_all(b"ok")
                if self.path.startswith("/big"):
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(outer.big)))
                    self.end_headers()
                    for i in range(0, len(outer.big), 65536):
                        self.wfile.write(outer.big[i:i + 65536])
                    return
                self.send_response(200)
                self.send_header("Content-Length", "6")
                self.end_headers()
                self.wfile.write(b"abc")
                self.wfile.flush()
                time.sleep(1.0)
                self.wfile.write(b"def")

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.send_all(f"{len(body)} {hashlib.sha256(body).hexdigest()}".encode())

            def send_all(self, body):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = host, self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_answers_stream_through_and_a_slow_one_arrives_as_it_is_written(elb, server):
    """Small answers are relayed whole, the others part by part as they come: a large one intact, a slow one's first
    bytes before its last are written; an upload streams to the target."""
    t = StreamingTarget("127.0.0.33")
    try:
        lb = load_balancer(elb, "streaming")
        tg = target_group(elb, "streaming", t.port)
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": t.host}])
        l_arn = listener(elb, lb["LoadBalancerArn"], [{"Type": "forward", "TargetGroupArn": tg}])
        healthy(elb, tg, 1)
        host, port = bound(server, l_arn).rsplit(":", 1)
        by_host = server.endpoint.split("//")[1]
        for address, headers in ((f"{host}:{port}", {}), (by_host, {"Host": f"{lb['DNSName']}:{port}"})):
            c = http.client.HTTPConnection(*address.rsplit(":", 1), timeout=10)
            c.request("GET", "/big", headers=headers)
            r = c.getresponse()
            assert r.status == 200 and r.read() == t.big
            started = time.monotonic()
            c.request("GET", "/trickle", headers=headers)
            r = c.getresponse()
            assert r.read(3) == b"abc"
            first = time.monotonic() - started
            assert r.read() == b"def"
            assert first < 0.8 <= time.monotonic() - started, first
            upload = bytes(range(256)) * 8192  # 2 MiB
            c.request("POST", "/upload", body=upload, headers=headers)
            r = c.getresponse()
            assert r.read().decode() == f"{len(upload)} {hashlib.sha256(upload).hexdigest()}"
            c.request("GET", "/health", headers=headers)  # the same client connection, a small answer after them
            r = c.getresponse()
            assert (r.status, r.read()) == (200, b"ok")
            c.close()
    finally:
        t.close()
