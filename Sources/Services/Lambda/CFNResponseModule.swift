/// Cloudless's own `cfnresponse` (python) and `cfn-response` (Node.js) modules, which CloudFormation places beside
/// an inline (`ZipFile`) handler so a custom resource's function can answer with `send(...)`. Same API and request
/// as AWS documents for its modules: a JSON document PUT to `event.ResponseURL` with an empty content type;
/// `Reason` and `PhysicalResourceId` default to the function's log stream name; a failed PUT is printed, not raised.
enum CFNResponseModule {
    /// Files added to an inline function's zip, by runtime family.
    static func files(runtime: String) -> [(path: String, source: String)] {
        if runtime.hasPrefix("python") { return [("cfnresponse.py", python)] }
        if runtime.hasPrefix("nodejs") { return [("node_modules/cfn-response/index.js", node)] }
        return []
    }

    static let python = #"""
"""Answer a CloudFormation custom resource request (Cloudless's implementation of the cfnresponse API)."""
import json
import urllib.request

SUCCESS = "SUCCESS"
FAILED = "FAILED"


def send(event, context, responseStatus, responseData, physicalResourceId=None, noEcho=False, reason=None):
    log_stream = getattr(context, "log_stream_name", "")
    body = json.dumps({
        "Status": responseStatus,
        "Reason": reason or "See the details in CloudWatch Log Stream: " + log_stream,
        "PhysicalResourceId": physicalResourceId or log_stream,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": noEcho,
        "Data": responseData,
    }).encode("utf-8")
    print("Response body:\n" + body.decode("utf-8"))
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"content-type": "", "content-length": str(len(body))})
    try:
        with urllib.request.urlopen(request) as response:
            print("Status code: " + str(response.status))
    except Exception as e:
        print("send(..) failed executing request to the response URL: " + str(e))
"""#

    static let node = #"""
// Answer a CloudFormation custom resource request (Cloudless's implementation of the cfn-response API).
'use strict';
const url = require('url');

exports.SUCCESS = 'SUCCESS';
exports.FAILED = 'FAILED';

exports.send = function (event, context, responseStatus, responseData, physicalResourceId, noEcho) {
  const logStream = context.logStreamName || '';
  const body = JSON.stringify({
    Status: responseStatus,
    Reason: 'See the details in CloudWatch Log Stream: ' + logStream,
    PhysicalResourceId: physicalResourceId || logStream,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: noEcho || false,
    Data: responseData,
  });
  console.log('Response body:\n', body);
  const target = new url.URL(event.ResponseURL);
  const client = require(target.protocol === 'https:' ? 'https' : 'http');
  const done = () => { if (typeof context.done === 'function') context.done(); };
  return new Promise((resolve) => {
    const request = client.request(target, {
      method: 'PUT',
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      console.log('Status code: ' + response.statusCode);
      response.resume();
      response.on('end', () => { done(); resolve(); });
    });
    request.on('error', (error) => {
      console.log('send(..) failed executing request to the response URL: ' + error);
      done();
      resolve();
    });
    request.write(body);
    request.end();
  });
};
"""#
}
