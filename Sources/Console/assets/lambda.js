// Lambda: functions, versions and aliases, invoke with a payload (result and log tail), event source mappings, the
// asynchronous invocation settings and queue.
"use strict";
UI.start(async (content) => {
  const { h, table, section, kv, button } = UI;
  const name = UI.param("function");
  if (!name) {
    const fns = [];
    let marker;
    do {
      const r = await AWS.rest("lambda", "GET", ["2015-03-31", "functions", ""], { query: marker ? [["Marker", marker]] : [] });
      fns.push(...(r.Functions || []));
      marker = r.NextMarker;
    } while (marker);
    content.replaceChildren(section("Functions", table(["Name", "Runtime", "Handler", "Memory", "Modified", "State"], fns.map((f) =>
      [UI.link(f.FunctionName, { function: f.FunctionName }), f.Runtime || f.PackageType, f.Handler || "", String(f.MemorySize), UI.date(f.LastModified), f.State || ""]),
      "No functions in this account and region.")));
    return;
  }
  const fn = await AWS.rest("lambda", "GET", ["2015-03-31", "functions", name]);
  const c = fn.Configuration;
  const versions = (await AWS.rest("lambda", "GET", ["2015-03-31", "functions", name, "versions"])).Versions || [];
  const aliases = (await AWS.rest("lambda", "GET", ["2015-03-31", "functions", name, "aliases"])).Aliases || [];
  const mappings = (await AWS.rest("lambda", "GET", ["2015-03-31", "event-source-mappings", ""], { query: [["FunctionName", name]] })).EventSourceMappings || [];
  let asyncConfig = null;
  try { asyncConfig = await AWS.rest("lambda", "GET", ["2019-09-25", "functions", name, "event-invoke-config"]); } catch (e) { asyncConfig = null; }
  const payload = h("textarea", { id: "payload" }, "{}");
  const qualifier = h("select", { id: "qualifier" }, ["$LATEST", ...versions.map((v) => v.Version).filter((v) => v !== "$LATEST"), ...aliases.map((a) => a.Name)].map((q) => h("option", { value: q }, q)));
  const result = h("div", { id: "invoke-result" });
  content.replaceChildren(h("p", {}, UI.link("All functions", {}), " / ", h("strong", {}, name)),
    section("Invoke", payload, h("div", { class: "row" }, "Qualifier ", qualifier, button("Invoke", async () => {
      const r = await AWS.rest("lambda", "POST", ["2015-03-31", "functions", name, "invocations"],
        { query: [["Qualifier", qualifier.value]], body: payload.value, headers: { "x-amz-log-type": "Tail" }, raw: true });
      const log = r.headers.get("x-amz-log-result");
      const text = await r.text();
      result.replaceChildren(kv([["Status", String(r.status)], ["Function error", r.headers.get("x-amz-function-error") || ""],
        ["Version", r.headers.get("x-amz-executed-version") || ""], ["Result", h("pre", { id: "invoke-output" }, text)],
        ["Log tail", h("pre", { id: "invoke-log" }, log ? new TextDecoder().decode(Uint8Array.from(atob(log), (ch) => ch.charCodeAt(0))) : "")]]));
    }, { id: "invoke" })), result),
    section("Configuration", kv([["ARN", c.FunctionArn], ["Runtime", c.Runtime], ["Handler", c.Handler], ["Role", c.Role], ["Memory", String(c.MemorySize)],
      ["Timeout", String(c.Timeout)], ["State", c.State], ["Code size", UI.size(c.CodeSize)], ["Environment", h("pre", {}, JSON.stringify((c.Environment || {}).Variables || {}, null, 1))]])),
    section("Versions", table(["Version", "Description", "Modified", "SHA-256"], versions.map((v) => [v.Version, v.Description || "", UI.date(v.LastModified), v.CodeSha256]))),
    section("Aliases", table(["Alias", "Version", "Routing", "Description"], aliases.map((a) => [a.Name, a.FunctionVersion, JSON.stringify((a.RoutingConfig || {}).AdditionalVersionWeights || {}), a.Description || ""]))),
    section("Event source mappings", table(["UUID", "Source", "State", "Batch size", "Last result"], mappings.map((m) => [m.UUID, m.EventSourceArn, m.State, String(m.BatchSize), m.LastProcessingResult || ""]))),
    section("Asynchronous invocation", asyncConfig ? kv([["Maximum retries", String(asyncConfig.MaximumRetryAttempts)], ["Maximum event age", String(asyncConfig.MaximumEventAgeInSeconds)],
      ["On success", ((asyncConfig.DestinationConfig || {}).OnSuccess || {}).Destination], ["On failure", ((asyncConfig.DestinationConfig || {}).OnFailure || {}).Destination]])
      : h("p", { class: "muted" }, "Defaults (2 retries, 6 hours); no destinations.")),
    asyncQueue(c.FunctionArn));
});

// The asynchronous invocation queue (the internal async-queue endpoint: AWS has no API for it), polled while the
// page is open. Payloads may hold secrets: the list never has them; "Payload" fetches one on demand.
function asyncQueue(arn) {
  const { h, table, section, button } = UI;
  const [, , , region, account, , name] = arn.split(":");
  const base = `/_cloudless/lambda/async-queue/${AWS.uriEncode(account)}/${AWS.uriEncode(region)}/${AWS.uriEncode(name)}`;
  const counts = h("p", { id: "async-counts", class: "muted" }, "Loading…");
  const rows = h("div", { id: "async-rows" });
  const detail = h("div", { id: "async-payload" });
  const states = { queued: "queued", running: "running", waitingToRetry: "waiting to retry" };
  const seconds = (ms) => (ms >= 0 ? "in " : "") + Math.round(Math.abs(ms) / 1000) + " s" + (ms < 0 ? " ago" : "");
  // Signed like every console call: under --strict-auth the endpoint answers only a valid key of this account.
  const get = (path) => AWS.internal(base + path);
  async function show(id) {
    const d = await get("/" + AWS.uriEncode(id));
    detail.replaceChildren(h("h3", {}, "Payload of " + id), h("pre", { id: "async-payload-text" }, d.payload != null ? d.payload : "(base64) " + d.payloadBase64),
      d.lastResponse ? [h("h3", {}, "Last attempt's answer"), h("pre", {}, d.lastResponse)] : "", button("Hide", async () => detail.replaceChildren()));
  }
  UI.poll(async () => {
    const d = await get("");
    const n = d.counts, f = d.finished || {};
    counts.textContent = `${n.total} queued: ${n.queued} waiting for a first attempt, ${n.running} running, ${n.waitingToRetry} waiting to retry` +
      (d.truncated ? ` (the oldest ${d.invocations.length} shown)` : "") +
      `. Finished since the server started: ${f.Success || 0} succeeded, ${f.RetriesExhausted || 0} out of retries, ${f.EventAgeExceeded || 0} too old.`;
    rows.replaceChildren(table(["Request id", "Qualifier", "State", "Attempts", "Received", "Next attempt", "Size", "Last error", ""],
      d.invocations.map((e) => [e.requestId, e.qualifier, states[e.state] || e.state, String(e.attempts), UI.date(e.received),
        e.state === "running" ? "now" : `${UI.date(e.nextAttempt)} (${seconds(e.nextAttempt - d.now)})`, UI.size(e.payloadSize),
        e.lastError || "", button("Payload", () => show(e.requestId), { class: "async-show", dataset: { request: e.requestId } })]),
      "No asynchronous invocation is waiting."));
  }, 1000, (e) => { counts.textContent = "Could not read the queue: " + (e.message || e); });
  return section("Asynchronous queue", counts, rows, detail);
}
