// CloudWatch Logs: groups and streams, and a live tail with a filter pattern (FilterLogEvents, polled).
"use strict";
UI.start(async (content) => {
  const { h, table, section, button } = UI;
  const group = UI.param("group");
  if (!group) {
    const groups = [];
    let token;
    do {
      const r = await AWS.json("logs", "DescribeLogGroups", token ? { nextToken: token } : {});
      groups.push(...(r.logGroups || []));
      token = r.nextToken;
    } while (token);
    content.replaceChildren(section("Log groups", table(["Name", "Retention", "Stored", "Created"], groups.map((g) =>
      [UI.link(g.logGroupName, { group: g.logGroupName }), g.retentionInDays ? g.retentionInDays + " days" : "never expires", UI.size(g.storedBytes || 0), UI.date(g.creationTime)]),
      "No log groups in this account and region.")));
    return;
  }
  const streams = (await AWS.json("logs", "DescribeLogStreams", { logGroupName: group, orderBy: "LastEventTime", descending: true, limit: 50 })).logStreams || [];
  const pattern = h("input", { id: "filter-pattern", placeholder: "filter pattern", size: 40, value: UI.param("pattern") || "" });
  const events = h("tbody", { id: "tail-rows" });
  const state = h("span", { class: "muted" });
  content.replaceChildren(h("p", {}, UI.link("All log groups", {}), " / ", h("strong", {}, group)),
    section("Live tail", h("div", { class: "row" }, pattern, button("Apply", async () => restart()), state),
      h("table", {}, h("thead", {}, h("tr", {}, ["Time", "Stream", "Message"].map((c) => h("th", {}, c)))), events)),
    section("Streams (latest first, 50)", table(["Stream", "First event", "Last event"], streams.map((s) => [s.logStreamName, UI.date(s.firstEventTimestamp), UI.date(s.lastEventTimestamp)]))));
  let stop = null;
  function restart() {
    if (stop) stop();
    events.replaceChildren();
    let since = Date.now() - 15 * 60 * 1000;
    const seen = new Set();
    stop = UI.poll(async () => {
      const input = { logGroupName: group, startTime: since, limit: 500 };
      if (pattern.value.trim()) input.filterPattern = pattern.value.trim();
      const r = await AWS.json("logs", "FilterLogEvents", input);
      for (const e of r.events || []) {
        if (seen.has(e.eventId)) continue;
        seen.add(e.eventId);
        since = Math.max(since, e.timestamp);
        events.prepend(h("tr", {}, h("td", {}, UI.date(e.timestamp)), h("td", {}, e.logStreamName), h("td", {}, h("pre", {}, e.message))));
      }
      while (events.children.length > 1000) events.lastChild.remove();
      state.textContent = "live · " + new Date().toLocaleTimeString();
    }, 2000, (e) => { state.textContent = e.message; });
  }
  restart();
});
