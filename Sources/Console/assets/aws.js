// An AWS client for the console's pages: SigV4 through SubtleCrypto (127.0.0.1 and localhost are secure
// contexts), and the four wire formats the pages need: JSON (X-Amz-Target), REST-JSON (Lambda), Query (IAM,
// STS, CloudFormation) and S3's REST-XML. Every call is a real API call on the same origin.
"use strict";
const AWS = (() => {
  const enc = new TextEncoder();
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
  const bytes = (data) => (typeof data === "string" ? enc.encode(data) : data);
  async function sha256(data) { return hex(await crypto.subtle.digest("SHA-256", bytes(data))); }
  async function hmac(key, msg) {
    const k = await crypto.subtle.importKey("raw", bytes(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return crypto.subtle.sign("HMAC", k, enc.encode(msg));
  }
  // RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX (uppercase).
  function uriEncode(s, keepSlash) {
    let out = "";
    for (const b of enc.encode(s)) {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === "/")) out += c;
      else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
    }
    return out;
  }
  // Signing keys by secret, day, region and service: four HMACs saved on every request after the first.
  const keys = new Map();
  async function signingKey(secret, day, region, service) {
    const id = [secret, day, region, service].join("\n");
    if (!keys.has(id)) {
      keys.set(id, (async () => {
        let key = await hmac("AWS4" + secret, day);
        for (const part of [region, service, "aws4_request"]) key = await hmac(key, part);
        return key;
      })());
    }
    return keys.get(id);
  }
  function amzDate(d) { return d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, ""); }

  // The session: account and region from the switcher; the key is the account (a 12-digit access key acts in that
  // account) unless --strict-auth, where the user's key and secret sign (kept in sessionStorage only).
  function session() {
    const body = document.body.dataset;
    let s = {};
    try { s = JSON.parse(sessionStorage.getItem("cloudless.console") || "{}"); } catch (e) { s = {}; }
    const strict = body.strict === "true";
    const account = s.account || body.defaultAccount;
    const region = s.region || body.defaultRegion;
    return strict
      ? { strict, account: s.account || "", region, accessKeyId: s.accessKeyId || "", secretAccessKey: s.secretAccessKey || "" }
      : { strict, account, region, accessKeyId: account, secretAccessKey: "test" };
  }
  function saveSession(values) {
    const s = Object.assign({}, JSON.parse(sessionStorage.getItem("cloudless.console") || "{}"), values);
    sessionStorage.setItem("cloudless.console", JSON.stringify(s));
  }

  class AWSError extends Error {
    constructor(code, message, status) { super(message ? code + ": " + message : code); this.code = code; this.status = status; }
  }

  // The query as SigV4 signs it (and as sent): encoded pairs in order.
  function canonicalQuery(query) {
    return query.map(([k, v]) => [uriEncode(k), uriEncode(v == null ? "" : String(v))])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
      .map(([k, v]) => k + "=" + v).join("&");
  }

  // A GET URL signed in its query (SigV4 query parameters, valid `expires` seconds): for an EventSource, which cannot
  // send an Authorization header. `service` names the scope; `path` is already URI-encoded.
  async function presign(service, path, query = [], expires = 300) {
    const c = session();
    const date = amzDate(new Date()), day = date.slice(0, 8);
    const scope = `${day}/${c.region}/${service}/aws4_request`;
    const q = canonicalQuery(query.concat([["X-Amz-Algorithm", "AWS4-HMAC-SHA256"], ["X-Amz-Credential", `${c.accessKeyId}/${scope}`],
      ["X-Amz-Date", date], ["X-Amz-Expires", String(expires)], ["X-Amz-SignedHeaders", "host"]]));
    const canonicalPath = service === "s3" ? path : uriEncode(path, true);
    const canonical = ["GET", canonicalPath, q, "host:" + location.host + "\n", "host", "UNSIGNED-PAYLOAD"].join("\n");
    const toSign = ["AWS4-HMAC-SHA256", date, scope, await sha256(canonical)].join("\n");
    const signature = hex(await hmac(await signingKey(c.secretAccessKey, day, c.region, service), toSign));
    return path + "?" + q + "&X-Amz-Signature=" + signature;
  }

  // Sign and send one request. `path` is already URI-encoded; `query` is a list of [name, value].
  async function send(service, { method = "GET", path = "/", query = [], headers = {}, body = null, creds = null } = {}) {
    const c = creds || session();
    const now = new Date();
    const date = amzDate(now), day = date.slice(0, 8);
    const h = Object.assign({}, headers);
    h["x-amz-date"] = date;
    const payloadHash = service === "s3" ? "UNSIGNED-PAYLOAD" : await sha256(body == null ? "" : body);
    h["x-amz-content-sha256"] = payloadHash;
    const signed = Object.keys(h).map((k) => k.toLowerCase());
    const canonicalHeaders = { host: location.host };
    for (const k of Object.keys(h)) canonicalHeaders[k.toLowerCase()] = String(h[k]).trim().replace(/\s+/g, " ");
    const names = ["host", ...signed].filter((v, i, a) => a.indexOf(v) === i).sort();
    const q = canonicalQuery(query);
    // S3 signs the path as sent; other services sign it encoded once more.
    const canonicalPath = service === "s3" ? path : uriEncode(path, true);
    const canonical = [method, canonicalPath, q, names.map((n) => n + ":" + canonicalHeaders[n] + "\n").join(""), names.join(";"), payloadHash].join("\n");
    const scope = `${day}/${c.region}/${service}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", date, scope, await sha256(canonical)].join("\n");
    const signature = hex(await hmac(await signingKey(c.secretAccessKey, day, c.region, service), toSign));
    h["authorization"] = `AWS4-HMAC-SHA256 Credential=${c.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
    return fetch(path + (q ? "?" + q : ""), { method, headers: h, body, cache: "no-store" });
  }

  function xml(text) { return new DOMParser().parseFromString(text, "application/xml"); }
  // Direct children of `node` named `name` (namespaces ignored).
  function kids(node, name) { return node ? Array.from(node.children).filter((e) => e.localName === name) : []; }
  function kid(node, name) { return kids(node, name)[0] || null; }
  function text(node, name) { const k = name ? kid(node, name) : node; return k ? k.textContent : ""; }
  function all(doc, name) { return Array.from(doc.getElementsByTagNameNS("*", name)); }

  async function xmlError(r) {
    const t = await r.text();
    if (!t) return new AWSError(String(r.status), r.statusText, r.status);
    const d = xml(t);
    const code = all(d, "Code")[0], msg = all(d, "Message")[0];
    return new AWSError(code ? code.textContent : String(r.status), msg ? msg.textContent : t.slice(0, 200), r.status);
  }
  async function jsonError(r) {
    const t = await r.text();
    let o = {};
    try { o = JSON.parse(t); } catch (e) { o = {}; }
    const type = (o.__type || r.headers.get("x-amzn-errortype") || String(r.status)).split("#").pop().split(":")[0];
    return new AWSError(type, o.message || o.Message || t.slice(0, 200), r.status);
  }

  const targets = {
    sqs: ["AmazonSQS", "1.0"], secretsmanager: ["secretsmanager", "1.1"], logs: ["Logs_20140328", "1.1"],
    ecs: ["AmazonEC2ContainerServiceV20141113", "1.1"],
  };
  // A JSON-protocol call: json("sqs", "ListQueues", {}).
  async function json(service, operation, input = {}) {
    const [prefix, version] = targets[service];
    const r = await send(service, { method: "POST", path: "/", body: JSON.stringify(input),
      headers: { "content-type": "application/x-amz-json-" + version, "x-amz-target": prefix + "." + operation } });
    if (!r.ok) throw await jsonError(r);
    const t = await r.text();
    return t ? JSON.parse(t) : {};
  }
  // A REST-JSON call (Lambda): path segments are encoded here.
  async function rest(service, method, segments, { query = [], body = null, headers = {}, raw = false } = {}) {
    const path = "/" + segments.map((s) => uriEncode(s)).join("/");
    const h = Object.assign(body == null ? {} : { "content-type": "application/json" }, headers);
    const r = await send(service, { method, path, query, headers: h, body: body == null ? null : typeof body === "string" ? body : JSON.stringify(body) });
    if (!r.ok) throw await jsonError(r);
    if (raw) return r;
    const t = await r.text();
    return t ? JSON.parse(t) : {};
  }
  const versions = { iam: "2010-05-08", sts: "2011-06-15", cloudformation: "2010-05-15" };
  // A Query call answering an XML document: query("iam", "ListRoles", {MaxItems: 100}).
  async function query(service, action, params = {}, creds = null) {
    // Action and Version ride in the URL (Query merges URL and form parameters): the request log then names the
    // operation, which the gateway reads without reading bodies.
    const form = new URLSearchParams(params).toString();
    const r = await send(service, { method: "POST", path: "/", query: [["Action", action], ["Version", versions[service]]], body: form, creds,
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" } });
    if (!r.ok) throw await xmlError(r);
    return xml(await r.text());
  }
  // An S3 call: s3("GET", bucket, key, {query: [["list-type", "2"]]}). Returns the Response (checked).
  async function s3(method, bucket, key, { query = [], headers = {}, body = null } = {}) {
    let path = "/";
    if (bucket) path += uriEncode(bucket) + "/";
    if (key != null) path += uriEncode(key, true);
    const r = await send("s3", { method, path, query, headers, body });
    if (!r.ok && r.status !== 304) throw method === "HEAD" ? new AWSError(String(r.status), r.statusText, r.status) : await xmlError(r);
    return r;
  }
  async function s3xml(method, bucket, key, opts) { return xml(await (await s3(method, bucket, key, opts)).text()); }

  // The caller as STS sees it: the check a sign-in makes under --strict-auth.
  async function whoami(creds) {
    const d = await query("sts", "GetCallerIdentity", {}, creds);
    return { account: all(d, "Account")[0].textContent, arn: all(d, "Arn")[0].textContent };
  }

  // A signed GET of one of Cloudless's own endpoints that show account data (the request log, SQS peek): under
  // --strict-auth they answer only a valid signature, and only with the signer's account.
  async function internal(path, query = []) {
    const r = await send("cloudless", { path, query });
    const t = await r.text();
    let d = {};
    try { d = JSON.parse(t); } catch (e) { d = {}; }
    if (!r.ok) throw new AWSError(d.error || String(r.status), d.message || t.slice(0, 200), r.status);
    return d;
  }

  return { send, presign, internal, json, rest, query, s3, s3xml, xml, kids, kid, text, all, whoami, session, saveSession, uriEncode, sha256, AWSError };
})();
