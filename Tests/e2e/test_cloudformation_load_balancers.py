"""ELBv2's CloudFormation types: a plain stack with an application load balancer, a target group holding a local
HTTP target (TargetGroupAttributes, health check properties, Targets), a listener whose default action is a fixed
response and a rule forwarding /app/* to the target group. Requests through the listener's port reach the fixed
response and the target; Ref and GetAtt answer as AWS does; an update moves the rule's path and changes the fixed
response in place; deleting the stack removes everything."""
import http.client
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from helpers import make_client
from server import Server


@pytest.fixture(scope="module")
def server():
    """Its own server: the module moves the emulator's clock and leaves function instances and deployments behind,
    which the shared server's later modules must not see."""
    s = Server().start()
    yield s
    s.stop()


WAIT = {"Delay": 1, "MaxAttempts": 60}

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  TargetPort: {Type: Number}
  AppPath: {Type: String}
  Message: {Type: String}
Resources:
  LB:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Type: application
      Subnets: [subnet-1, subnet-2]
      LoadBalancerAttributes: [{Key: idle_timeout.timeout_seconds, Value: "30"}]
      Tags: [{Key: team, Value: web}]
  TG:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      TargetType: ip
      Protocol: HTTP
      Port: 80
      VpcId: vpc-1
      HealthCheckPath: /health
      HealthCheckIntervalSeconds: 5
      HealthCheckTimeoutSeconds: 2
      HealthyThresholdCount: 2
      Matcher: {HttpCode: "200"}
      TargetGroupAttributes: [{Key: deregistration_delay.timeout_seconds, Value: "0"}]
      Targets: [{Id: 127.0.0.1, Port: !Ref TargetPort}]
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: 80
      Protocol: HTTP
      DefaultActions:
        - Type: fixed-response
          FixedResponseConfig: {StatusCode: "404", ContentType: text/plain, MessageBody: !Ref Message}
  AppRule:
    Type: AWS::ElasticLoadBalancingV2::ListenerRule
    Properties:
      ListenerArn: !Ref Listener
      Priority: 10
      Conditions: [{Field: path-pattern, PathPatternConfig: {Values: [!Ref AppPath]}}]
      Actions:
        - Type: forward
          ForwardConfig: {TargetGroups: [{TargetGroupArn: !Ref TG, Weight: 1}]}
Outputs:
  LBArn: {Value: !Ref LB}
  DNSName: {Value: !GetAtt LB.DNSName}
  FullName: {Value: !GetAtt LB.LoadBalancerFullName}
  LBName: {Value: !GetAtt LB.LoadBalancerName}
  Zone: {Value: !GetAtt LB.CanonicalHostedZoneID}
  TGArn: {Value: !Ref TG}
  TGName: {Value: !GetAtt TG.TargetGroupName}
  TGFullName: {Value: !GetAtt TG.TargetGroupFullName}
  ListenerArn: {Value: !Ref Listener}
  RuleArn: {Value: !Ref AppRule}
"""


class Target:
    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = b"ok" if self.path.startswith("/health") else json.dumps({"path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def get(address, path):
    host, port = address.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def params(port, path, message):
    return [{"ParameterKey": "TargetPort", "ParameterValue": str(port)}, {"ParameterKey": "AppPath", "ParameterValue": path},
            {"ParameterKey": "Message", "ParameterValue": message}]


def test_load_balancer_stack_serves_traffic(endpoint):
    cfn, elb = make_client(endpoint, "cloudformation"), make_client(endpoint, "elbv2")
    target = Target()
    stack = "lb-" + uuid.uuid4().hex[:8]
    try:
        cfn.create_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=params(target.port, "/app/*", "nothing here"))
        try:
            cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
        except Exception:
            events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
            raise AssertionError([(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events])
        out = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
        lb = elb.describe_load_balancers(LoadBalancerArns=[out["LBArn"]])["LoadBalancers"][0]
        assert out["DNSName"] == lb["DNSName"] and out["LBName"] == lb["LoadBalancerName"]
        assert lb["LoadBalancerName"].startswith(stack + "-LB-") and len(lb["LoadBalancerName"]) <= 32
        assert out["FullName"] == "app/" + out["FullName"].split("/", 1)[1] and out["LBArn"].endswith(out["FullName"])
        assert out["Zone"] == lb["CanonicalHostedZoneId"]
        attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=out["LBArn"])["Attributes"]}
        assert attrs["idle_timeout.timeout_seconds"] == "30"
        tags = {t["Key"]: t["Value"] for t in elb.describe_tags(ResourceArns=[out["LBArn"]])["TagDescriptions"][0]["Tags"]}
        assert tags["team"] == "web" and tags["aws:cloudformation:stack-name"] == stack
        tg = elb.describe_target_groups(TargetGroupArns=[out["TGArn"]])["TargetGroups"][0]
        assert tg["TargetGroupName"] == out["TGName"] and out["TGArn"].endswith(out["TGFullName"])
        assert tg["HealthCheckPath"] == "/health" and tg["HealthCheckIntervalSeconds"] == 5 and tg["LoadBalancerArns"] == [out["LBArn"]]
        health = elb.describe_target_health(TargetGroupArn=out["TGArn"])["TargetHealthDescriptions"]
        assert [(h["Target"]["Id"], h["Target"]["Port"]) for h in health] == [("127.0.0.1", target.port)]
        rule = elb.describe_rules(RuleArns=[out["RuleArn"]])["Rules"][0]
        assert rule["Priority"] == "10" and rule["Conditions"][0]["PathPatternConfig"]["Values"] == ["/app/*"]

        rows = requests.get(endpoint + "/_cloudless/elbv2/listeners", timeout=5).json()["listeners"]
        address = next(r["address"] for r in rows if r["listenerArn"] == out["ListenerArn"])
        assert get(address, "/other") == (404, b"nothing here")
        requests.post(endpoint + "/_cloudless/clock", json={"advance": 30}, timeout=5).raise_for_status()
        deadline = time.time() + 20
        while time.time() < deadline:
            status, body = get(address, "/app/x")
            if status == 200:
                break
            time.sleep(0.2)
        assert (status, json.loads(body)) == (200, {"path": "/app/x"})

        # In place: the rule's path and the fixed response change, the ARNs stay.
        cfn.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=params(target.port, "/api/*", "gone"))
        cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
        after = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
        assert after["RuleArn"] == out["RuleArn"] and after["ListenerArn"] == out["ListenerArn"]
        assert get(address, "/app/x") == (404, b"gone")
        assert json.loads(get(address, "/api/y")[1]) == {"path": "/api/y"}
    finally:
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
        target.close()
    assert not [l for l in elb.describe_load_balancers()["LoadBalancers"] if l["LoadBalancerArn"] == out["LBArn"]]
    assert not [t for t in elb.describe_target_groups()["TargetGroups"] if t["TargetGroupArn"] == out["TGArn"]]
