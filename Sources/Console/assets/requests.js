// The request log: the last requests the server answered (GET /_cloudless/requests), then live through server-sent
// events (GET /_cloudless/requests/stream). Filters apply on the server; no body or secret is ever in an entry.
"use strict";
UI.start(async (content) => {
  const { h, section } = UI;
  const fields = {
    service: h("input", { id: "filter-service", placeholder: "service (s3, sqs…)", size: 14, value: UI.param("service") || "" }),
    operation: h("input", { id: "filter-operation", placeholder: "operation", size: 18, value: UI.param("operation") || "" }),
    account: h("input", { id: "filter-account", placeholder: "account", size: 13, value: UI.param("account") || "" }),
  };
  const errors = h("input", { type: "checkbox", id: "filter-errors", checked: UI.param("errors") === "1" });
  const state = h("span", { class: "muted", id: "live-state" }, "connecting…");
  const body = h("tbody", { id: "request-rows" });
  const apply = h("button", { type: "submit" }, "Filter");
  const form = h("form", { class: "inline" }, fields.service, fields.operation, fields.account, h("label", {}, errors, " errors only"), apply, state);
  content.replaceChildren(section("Requests (newest first)", form,
    h("table", {}, h("thead", {}, h("tr", {}, ["Time", "Service", "Operation", "Account", "Region", "Access key", "Status", "ms", "Error"].map((c) => h("th", {}, c)))), body)));
  const filter = () => {
    const p = new URLSearchParams();
    for (const [k, f] of Object.entries(fields)) if (f.value.trim()) p.set(k, f.value.trim());
    if (errors.checked) p.set("errors", "1");
    return p;
  };
  const row = (e) => h("tr", { class: e.status >= 400 ? "failed" : null }, [UI.date(e.time).slice(11), e.service, e.operation, e.account, e.region,
    e.accessKeyId, String(e.status), String(e.durationMs), e.errorCode].map((c) => h("td", {}, c)));
  let source = null;
  async function load() {
    if (source) source.close();
    source = null;
    const p = filter();
    history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p : ""));
    // Signed: under --strict-auth the log answers only a valid signature, with the signer's account's requests.
    const d = await AWS.internal("/_cloudless/requests", [...p.entries()]);
    body.replaceChildren(...d.requests.reverse().slice(0, 500).map(row));
    await connect(d.next - 1);
  }
  // The live part, from after sequence `after`, through a presigned URL (an EventSource cannot send headers).
  async function connect(after) {
    const p = filter();
    p.set("after", String(after));
    const stream = new EventSource(await AWS.presign("cloudless", "/_cloudless/requests/stream", [...p.entries()]));
    source = stream;
    let last = after;
    stream.onopen = () => { state.textContent = "live"; };
    stream.onerror = () => {
      state.textContent = "reconnecting…";
      // A refused reconnection (the presigned URL expired) closes the source: sign a fresh one from where it stopped.
      if (stream.readyState === EventSource.CLOSED) {
        setTimeout(() => { if (source === stream) connect(last).catch((e) => UI.toast(e.message, true)); }, 1000);
      }
    };
    stream.onmessage = (m) => {
      const e = JSON.parse(m.data);
      last = e.seq;
      body.prepend(row(e));
      while (body.children.length > 500) body.lastChild.remove();
    };
  }
  form.onsubmit = (ev) => { ev.preventDefault(); load().catch((e) => UI.toast(e.message, true)); };
  await load();
});
