/// The nodejs* runtime: a small bootstrap speaking the Lambda Runtime API as AWS's Node.js runtime does (CommonJS
/// and ES module handlers, async and callback styles, the context object, error documents with trace).
enum NodeBootstrap {
    static let source = #"""
"use strict";
const http = require("http");
const path = require("path");
const fs = require("fs");
const url = require("url");

const util = require("util");
const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");

// console.* lines as Lambda's Node.js runtime writes them: time, request id, level, message (newlines as \r so a
// message stays one log event).
// With LoggingConfig JSON (AWS_LAMBDA_LOG_FORMAT), each line is a JSON object, filtered by AWS_LAMBDA_LOG_LEVEL.
let currentRequestId;
const JSON_LOGS = process.env.AWS_LAMBDA_LOG_FORMAT === "JSON";
const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const MIN_LEVEL = LEVELS.indexOf(process.env.AWS_LAMBDA_LOG_LEVEL || "INFO");
function write(level, text) {
  // Synchronous, so a line is in the pipe before the invocation's answer is sent.
  if (JSON_LOGS) {
    if (LEVELS.indexOf(level) < MIN_LEVEL) return;
    const doc = { timestamp: new Date().toISOString(), level, requestId: currentRequestId, message: text };
    fs.writeSync(1, JSON.stringify(doc) + "\n");
    return;
  }
  fs.writeSync(1, `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${text.replace(/\n/g, "\r")}\n`);
}
for (const [name, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"], ["error", "ERROR"], ["debug", "DEBUG"], ["trace", "TRACE"]]) {
  console[name] = (...args) => write(level, util.format(...args));
}
const BASE = "/2018-06-01/runtime";

function call(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port: PORT, path: BASE + p, method, headers: headers || {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorDocument(err) {
  if (!(err instanceof Error)) {
    return { errorType: "string", errorMessage: typeof err === "string" ? err : JSON.stringify(err), trace: [] };
  }
  return { errorType: err.name || "Error", errorMessage: err.message, trace: (err.stack || "").split("\n") };
}

async function failInit(doc) {
  write("ERROR", JSON.stringify(doc));
  await call("POST", "/init/error", JSON.stringify(doc), { "Lambda-Runtime-Function-Error-Type": doc.errorType });
  process.exit(1);
}

async function loadHandler() {
  const spec = process.env._HANDLER;
  const dot = spec.lastIndexOf(".");
  const modulePath = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT;
  let mod;
  const base = path.resolve(root, modulePath);
  try {
    if (fs.existsSync(base + ".mjs")) {
      mod = await import(url.pathToFileURL(base + ".mjs").href);
    } else {
      const file = fs.existsSync(base + ".cjs") ? base + ".cjs" : base;
      try {
        mod = require(file);
      } catch (e) {
        if (e.code !== "ERR_REQUIRE_ESM") throw e;
        mod = await import(url.pathToFileURL(file + ".js").href);
      }
    }
  } catch (e) {
    if (e.code === "MODULE_NOT_FOUND" && String(e.message).includes(base)) {
      await failInit({ errorType: "Runtime.ImportModuleError", errorMessage: `Error: Cannot find module '${modulePath}'`, trace: [] });
    }
    if (e instanceof SyntaxError) {
      await failInit({ errorType: "Runtime.UserCodeSyntaxError", errorMessage: `${e.name}: ${e.message}`, trace: (e.stack || "").split("\n") });
    }
    await failInit(errorDocument(e));
  }
  const handler = mod && (mod[name] || (mod.default && mod.default[name]));
  if (typeof handler !== "function") {
    await failInit({ errorType: "Runtime.HandlerNotFound", errorMessage: `${modulePath}.${name} is undefined or not exported`, trace: [] });
  }
  return handler;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const clientContext = headers["lambda-runtime-client-context"];
  const identity = headers["lambda-runtime-cognito-identity"];
  return {
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: clientContext ? JSON.parse(clientContext) : undefined,
    identity: identity ? JSON.parse(identity) : undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function run(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err); else resolve(result);
    };
    ctx.done = callback;
    ctx.succeed = (r) => callback(null, r);
    ctx.fail = (e) => callback(e);
    try {
      const out = handler(event, ctx, callback);
      if (out && typeof out.then === "function") out.then((r) => callback(null, r), (e) => callback(e));
      else if (handler.length < 3) callback(null, out);
    } catch (e) {
      callback(e);
    }
  });
}

(async () => {
  const handler = await loadHandler();
  for (;;) {
    const next = await call("GET", "/invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = id;
    process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] || "";
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString("utf8")) : null;
      const result = await run(handler, event, context(next.headers));
      await call("POST", `/invocation/${id}/response`, result === undefined ? "null" : JSON.stringify(result));
    } catch (e) {
      const doc = errorDocument(e);
      write("ERROR", `Invoke Error \t${JSON.stringify(doc)}`);
      await call("POST", `/invocation/${id}/error`, JSON.stringify(doc), { "Lambda-Runtime-Function-Error-Type": "Unhandled" });
    }
  }
})();
"""#
}
