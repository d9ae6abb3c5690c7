// The overview: the server's health and a link per service page.
"use strict";
UI.start(async (content) => {
  const { h } = UI;
  const r = await fetch("/_cloudless/health", { cache: "no-store" });
  const health = await r.json();
  const s = AWS.session();
  content.replaceChildren(
    UI.section("Server", UI.kv([["Version", health.version], ["Commit", health.commit], ["Uptime", Math.round(health.uptime) + " s"],
      ["Account", s.account], ["Region", s.region], ["Authentication", s.strict ? "strict (signatures verified)" : "any key; a 12-digit key is the account"]])),
    UI.section("Services", UI.table(["Service", "Status"], Object.entries(health.services).map(([k, v]) => [k, v]))),
    UI.section("Internal endpoints", h("p", {}, "Everything here is an AWS API call, or one of these documented endpoints: ",
      h("code", {}, "GET /_cloudless/requests"), ", ", h("code", {}, "GET /_cloudless/requests/stream"), ", ",
      h("code", {}, "GET /_cloudless/sqs/peek/<account>/<region>/<queue>"), ".")));
});
