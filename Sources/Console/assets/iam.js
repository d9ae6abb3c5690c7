// IAM: roles, users and customer managed policies (Query protocol).
"use strict";
UI.start(async (content) => {
  const { section, table } = UI;
  const list = async (action, member, params = {}) => {
    const out = [];
    let marker = null;
    do {
      const d = await AWS.query("iam", action, Object.assign({ MaxItems: "1000" }, params, marker ? { Marker: marker } : {}));
      out.push(...AWS.all(d, member)[0] ? Array.from(AWS.all(d, member)[0].children) : []);
      marker = AWS.all(d, "IsTruncated")[0] && AWS.all(d, "IsTruncated")[0].textContent === "true" ? AWS.all(d, "Marker")[0].textContent : null;
    } while (marker);
    return out;
  };
  const t = AWS.text;
  const [roles, users, policies] = await Promise.all([list("ListRoles", "Roles"), list("ListUsers", "Users"), list("ListPolicies", "Policies", { Scope: "Local" })]);
  content.replaceChildren(
    section("Roles", table(["Name", "ARN", "Path", "Created"], roles.map((r) => [t(r, "RoleName"), t(r, "Arn"), t(r, "Path"), UI.date(t(r, "CreateDate"))]))),
    section("Users", table(["Name", "ARN", "Path", "Created"], users.map((u) => [t(u, "UserName"), t(u, "Arn"), t(u, "Path"), UI.date(t(u, "CreateDate"))]))),
    section("Customer managed policies", table(["Name", "ARN", "Attachments", "Default version"], policies.map((p) => [t(p, "PolicyName"), t(p, "Arn"), t(p, "AttachmentCount"), t(p, "DefaultVersionId")]))));
});
