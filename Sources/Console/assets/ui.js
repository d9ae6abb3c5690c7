// The pages' shared parts: building DOM (text is always set as text, never parsed as HTML), tables, messages,
// polling, the account and region switcher, and starting a page.
"use strict";
const UI = (() => {
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(e.dataset, v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) if (c != null && c !== false) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  function table(columns, rows, empty = "None.") {
    if (!rows.length) return h("p", { class: "muted" }, empty);
    return h("table", {}, h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
  }
  function section(title, ...children) { return h("section", {}, h("h2", {}, title), ...children); }
  function kv(pairs) { return h("dl", { class: "kv" }, pairs.filter((p) => p[1] != null && p[1] !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])); }
  function link(text, params) {
    const u = new URL(location.href);
    u.search = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null)).toString();
    return h("a", { href: u.pathname + u.search }, text);
  }
  function param(name) { return new URLSearchParams(location.search).get(name); }
  function toast(message, isError) {
    const t = document.getElementById("toast");
    t.textContent = message;
    t.className = isError ? "show error" : "show";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.className = ""; }, isError ? 8000 : 3000);
  }
  function errorBox(e) { return h("p", { class: "error" }, e && e.message ? e.message : String(e)); }
  // A button whose action runs once at a time and reports its failure instead of throwing.
  function button(label, action, attrs = {}) {
    const b = h("button", Object.assign({ type: "button" }, attrs), label);
    b.addEventListener("click", async (ev) => {
      ev.preventDefault();
      b.disabled = true;
      try { await action(b); } catch (e) { toast(e.message || String(e), true); } finally { b.disabled = false; }
    });
    return b;
  }
  function date(v) {
    if (v == null || v === "") return "";
    const d = typeof v === "number" ? new Date(v > 1e11 ? v : v * 1000) : new Date(v);
    return isNaN(d) ? String(v) : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  }
  function size(n) {
    n = Number(n);
    if (n < 1024) return n + " B";
    const units = ["KiB", "MiB", "GiB", "TiB"];
    let i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
    return n.toFixed(1) + " " + units[i];
  }
  // Run `fn` now and every `ms` until the page goes (one run at a time; a failure shows and polling goes on).
  function poll(fn, ms, onError) {
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      try { await fn(); } catch (e) { if (onError) onError(e); }
      if (!stopped) setTimeout(tick, ms);
    };
    tick();
    return () => { stopped = true; };
  }
  const regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "sa-east-1"];

  // The switcher: account and region; under --strict-auth an access key and secret, checked with STS before use.
  function switcher() {
    const form = document.getElementById("switcher");
    const s = AWS.session();
    const regionList = regions.includes(s.region) ? regions : [s.region, ...regions];
    const region = h("select", { name: "region", "aria-label": "Region" }, regionList.map((r) => h("option", { value: r, selected: r === s.region }, r)));
    if (!s.strict) {
      const account = h("input", { name: "account", value: s.account, size: 13, pattern: "[0-9]{12}", "aria-label": "Account", title: "12-digit account id" });
      form.replaceChildren(h("label", {}, "Account ", account), h("label", {}, "Region ", region), h("button", { type: "submit" }, "Switch"));
      form.onsubmit = (ev) => {
        ev.preventDefault();
        if (!/^[0-9]{12}$/.test(account.value)) { toast("An account id is 12 digits.", true); return; }
        AWS.saveSession({ account: account.value, region: region.value });
        location.reload();
      };
      return;
    }
    if (s.accessKeyId) {
      form.replaceChildren(h("span", { id: "signed-in" }, `Account ${s.account} · key ${s.accessKeyId}`), h("label", {}, "Region ", region),
        h("button", { type: "button", id: "sign-out", onclick: () => { sessionStorage.removeItem("cloudless.console"); location.reload(); } }, "Sign out"));
      region.onchange = () => { AWS.saveSession({ region: region.value }); location.reload(); };
      return;
    }
    const key = h("input", { name: "accessKeyId", placeholder: "Access key", size: 20, "aria-label": "Access key" });
    const secret = h("input", { name: "secretAccessKey", type: "password", placeholder: "Secret key", size: 20, "aria-label": "Secret key" });
    form.replaceChildren(key, secret, region, h("button", { type: "submit", id: "sign-in" }, "Sign in"));
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const creds = { accessKeyId: key.value.trim(), secretAccessKey: secret.value, region: region.value };
      try {
        const who = await AWS.whoami(creds);
        AWS.saveSession(Object.assign(creds, { account: who.account }));
        location.reload();
      } catch (e) {
        toast("Sign-in failed: " + e.message, true);
        const c = document.getElementById("content");
        c.replaceChildren(h("p", { class: "error", id: "sign-in-error" }, "Sign-in failed: " + e.message));
      }
    };
  }

  // Start the page: draw the switcher, then the page into #content unless a sign-in is needed first.
  function start(render) {
    switcher();
    const content = document.getElementById("content");
    const s = AWS.session();
    if (s.strict && !s.accessKeyId) {
      content.replaceChildren(h("p", { id: "needs-sign-in" }, "This server runs with --strict-auth: sign in with an access key and its secret."));
      return;
    }
    // data-ready: when the first drawing ended (ms since navigation), for tests and measurements.
    Promise.resolve().then(() => render(content, s)).catch((e) => content.replaceChildren(errorBox(e)))
      .finally(() => { document.body.dataset.ready = String(Math.round(performance.now())); });
  }

  // Save a Response's body as a file (signed downloads cannot be plain links).
  async function download(response, name) {
    const url = URL.createObjectURL(await response.blob());
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  return { h, table, section, kv, link, param, toast, errorBox, button, date, size, poll, start, download };
})();
