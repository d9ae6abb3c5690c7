// CloudFormation: stacks, their resources and events (events refresh every 2 s while a stack is in progress).
"use strict";
UI.start(async (content) => {
  const { h, section, table, kv } = UI;
  const t = AWS.text;
  const name = UI.param("stack");
  if (!name) {
    const d = await AWS.query("cloudformation", "DescribeStacks");
    const stacks = AWS.all(d, "Stacks")[0] ? AWS.kids(AWS.all(d, "Stacks")[0], "member") : [];
    content.replaceChildren(section("Stacks", table(["Name", "Status", "Created", "Updated", "Description"], stacks.map((s) =>
      [UI.link(t(s, "StackName"), { stack: t(s, "StackName") }), t(s, "StackStatus"), UI.date(t(s, "CreationTime")), UI.date(t(s, "LastUpdatedTime")), t(s, "Description")]),
      "No stacks in this account and region.")));
    return;
  }
  const summary = section("Stack");
  const resources = section("Resources");
  const events = section("Events");
  content.replaceChildren(h("p", {}, UI.link("All stacks", {}), " / ", h("strong", {}, name)), summary, resources, events);
  UI.poll(async () => {
    const s = AWS.kids(AWS.all(await AWS.query("cloudformation", "DescribeStacks", { StackName: name }), "Stacks")[0], "member")[0];
    const outputs = AWS.all(s, "Outputs")[0] ? AWS.kids(AWS.all(s, "Outputs")[0], "member") : [];
    summary.replaceChildren(h("h2", {}, "Stack"), kv([["Status", t(s, "StackStatus")], ["Reason", t(s, "StackStatusReason")], ["Id", t(s, "StackId")],
      ["Outputs", outputs.map((o) => h("div", {}, t(o, "OutputKey") + " = " + t(o, "OutputValue")))]]));
    const r = AWS.all(await AWS.query("cloudformation", "DescribeStackResources", { StackName: name }), "member");
    resources.replaceChildren(h("h2", {}, "Resources"), table(["Logical id", "Type", "Physical id", "Status", "Reason"], r.map((m) =>
      [t(m, "LogicalResourceId"), t(m, "ResourceType"), t(m, "PhysicalResourceId"), t(m, "ResourceStatus"), t(m, "ResourceStatusReason")])));
    const e = AWS.all(await AWS.query("cloudformation", "DescribeStackEvents", { StackName: name }), "member");
    events.replaceChildren(h("h2", {}, "Events"), table(["Time", "Logical id", "Type", "Status", "Reason"], e.map((m) =>
      [UI.date(t(m, "Timestamp")), t(m, "LogicalResourceId"), t(m, "ResourceType"), t(m, "ResourceStatus"), t(m, "ResourceStatusReason")])));
  }, 2000, (e) => summary.replaceChildren(UI.errorBox(e)));
});
