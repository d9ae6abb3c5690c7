/// The python3.* runtime: a small bootstrap speaking the Lambda Runtime API as AWS's python runtime does (handler
/// import, context object, error documents with stackTrace, init errors).
enum PythonBootstrap {
    static let source = #"""
import importlib
import json
import os
import socket
import sys
import time

HOST, _, PORT = os.environ["AWS_LAMBDA_RUNTIME_API"].rpartition(":")
PREFIX = "/2018-06-01/runtime"


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


class RuntimeAPI:
    """HTTP/1.1 over one kept-alive loopback connection. Written on sockets: urllib would cost the cold start its
    imports (http.client, email, ssl) on every new instance."""

    def __init__(self):
        self.sock = None
        self.reader = None

    def call(self, method, path, body=b"", headers=None):
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection((HOST, int(PORT)))
                    self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self.reader = self.sock.makefile("rb")
                lines = [method + " " + PREFIX + path + " HTTP/1.1", "Host: " + HOST + ":" + PORT,
                         "Content-Length: " + str(len(body))]
                lines += [k + ": " + v for k, v in (headers or {}).items()]
                self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
                status = int(self.reader.readline().split()[1])
                received = {}
                while True:
                    line = self.reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    received[name.strip().lower()] = value.strip()
                data = self.reader.read(int(received.get("content-length", "0")))
                if received.get("connection", "").lower() == "close":
                    self.close()
                return Response(status, received, data)
            except (OSError, IndexError, ValueError):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = self.reader = None


API = RuntimeAPI()
call = API.call


def error_document(exc, request_id, skip=1):
    import traceback
    frames = traceback.extract_tb(exc.__traceback__)[skip:]
    return {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": request_id,
            "stackTrace": traceback.format_list(frames)}


def fail_init(message, error_type, stack=None):
    body = {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": stack or []}
    print("[ERROR] " + error_type + ": " + message, flush=True)
    call("POST", "/init/error", json.dumps(body).encode(), {"Lambda-Runtime-Function-Error-Type": error_type})
    sys.exit(1)


class Client:
    def __init__(self, d):
        self.installation_id = d.get("installation_id")
        self.app_title = d.get("app_title")
        self.app_version_name = d.get("app_version_name")
        self.app_version_code = d.get("app_version_code")
        self.app_package_name = d.get("app_package_name")


class ClientContext:
    def __init__(self, d):
        self.client = Client(d["client"]) if d.get("client") else None
        self.custom = d.get("custom")
        self.env = d.get("env")


class CognitoIdentity:
    def __init__(self, d):
        self.cognito_identity_id = d.get("cognitoIdentityId")
        self.cognito_identity_pool_id = d.get("cognitoIdentityPoolId")


class LambdaContext:
    def __init__(self, headers):
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
        client_context = headers.get("lambda-runtime-client-context")
        self.client_context = ClientContext(json.loads(client_context)) if client_context else None
        identity = headers.get("lambda-runtime-cognito-identity")
        self.identity = CognitoIdentity(json.loads(identity) if identity else {})

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def load_handler():
    spec = os.environ["_HANDLER"]
    module_path, _, function_name = spec.rpartition(".")
    if not module_path or not function_name:
        fail_init("Bad handler '" + spec + "': not enough values to unpack (expected 2, got 1)", "Runtime.MalformedHandlerName")
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path[0:0] = [task_root, "/opt/python"]
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as e:
        fail_init("Syntax error in module '" + module_name + "': " + str(e), "Runtime.UserCodeSyntaxError")
    except ImportError as e:
        fail_init("Unable to import module '" + module_name + "': " + str(e), "Runtime.ImportModuleError")
    except Exception as e:
        doc = error_document(e, "")
        fail_init(doc["errorMessage"], doc["errorType"], doc["stackTrace"])
    handler = getattr(module, function_name, None)
    if handler is None:
        fail_init("Handler '" + function_name + "' missing on module '" + module_name + "'", "Runtime.HandlerNotFound")
    return handler


REQUEST_ID = [""]


def setup_json_logging():
    """LoggingConfig JSON: `logging` records become JSON lines, filtered by AWS_LAMBDA_LOG_LEVEL, as AWS's runtime does."""
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") != "JSON":
        return
    import logging

    class JsonFormatter(logging.Formatter):
        def format(self, record):
            doc = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
                   "level": record.levelname, "message": record.getMessage(), "logger": record.name}
            if REQUEST_ID[0]:
                doc["requestId"] = REQUEST_ID[0]
            return json.dumps(doc, default=str)

    out = logging.StreamHandler(sys.stdout)
    out.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [out]
    levels = {"TRACE": 5, "DEBUG": 10, "INFO": 20, "WARN": 30, "ERROR": 40, "FATAL": 50}
    root.setLevel(levels.get(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO"), 20))


def main():
    setup_json_logging()
    handler = load_handler()
    while True:
        r = call("GET", "/invocation/next")
        headers = r.headers
        request_id = headers.get("lambda-runtime-aws-request-id")
        REQUEST_ID[0] = request_id or ""
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("lambda-runtime-trace-id", "")
        raw = r.body
        try:
            event = json.loads(raw) if raw else None
            result = handler(event, LambdaContext(headers))
        except Exception as e:
            doc = error_document(e, request_id)
            print("[ERROR] " + doc["errorType"] + ": " + doc["errorMessage"], flush=True)
            print("Traceback (most recent call last):\n" + "".join(doc["stackTrace"]), end="", flush=True)
            call("POST", "/invocation/" + request_id + "/error", json.dumps(doc).encode(),
                 {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        try:
            body = json.dumps(result).encode()
        except Exception as e:
            doc = {"errorMessage": "Unable to marshal response: " + str(e), "errorType": "Runtime.MarshalError",
                   "requestId": request_id, "stackTrace": []}
            call("POST", "/invocation/" + request_id + "/error", json.dumps(doc).encode(),
                 {"Lambda-Runtime-Function-Error-Type": "Runtime.MarshalError"})
            continue
        call("POST", "/invocation/" + request_id + "/response", body)


main()
"""#
}
