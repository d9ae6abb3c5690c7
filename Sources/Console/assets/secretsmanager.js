// Secrets Manager: secrets, their versions and staging labels. A value is fetched (GetSecretValue) only when its
// button is clicked, and only one is shown at a time.
"use strict";
UI.start(async (content) => {
  const { h, table, section, kv, button, toast } = UI;
  const id = UI.param("secret");
  if (!id) return secrets(content);
  const d = await AWS.json("secretsmanager", "DescribeSecret", { SecretId: id });
  const versions = [];
  let token;
  do {
    const r = await AWS.json("secretsmanager", "ListSecretVersionIds", Object.assign({ SecretId: id, IncludeDeprecated: true }, token ? { NextToken: token } : {}));
    versions.push(...(r.Versions || []));
    token = r.NextToken;
  } while (token);
  let shown = null;  // the one value on screen: hidden again when another is asked for
  const hide = () => { if (shown) { shown.cell.replaceChildren(shown.button); shown = null; } };
  const rows = versions.map((v) => {
    const cell = h("td", { class: "value-cell" });
    const reveal = button("Show value", async () => {
      hide();
      const r = await AWS.json("secretsmanager", "GetSecretValue", { SecretId: d.ARN, VersionId: v.VersionId });
      const value = r.SecretString != null ? r.SecretString : "(binary, " + atob(r.SecretBinary).length + " bytes)";
      cell.replaceChildren(h("code", { class: "secret-value" }, value), " ", UI.button("Hide", async () => hide()));
      shown = { cell, button: reveal };
    }, { class: "reveal", dataset: { version: v.VersionId } });
    cell.append(reveal);
    return { v, cell };
  });
  const versionTable = h("table", {}, h("thead", {}, h("tr", {}, ["Version", "Stages", "Created", "Value"].map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.map(({ v, cell }) => h("tr", {}, h("td", {}, v.VersionId), h("td", {}, (v.VersionStages || []).map((s) => h("span", { class: "tag" }, s))),
      h("td", {}, UI.date(v.CreatedDate)), cell))));
  const value = h("textarea", { id: "new-value", placeholder: "New value (becomes AWSCURRENT)" });
  content.replaceChildren(h("p", {}, UI.link("All secrets", {}), " / ", h("strong", {}, d.Name)),
    section("Secret", kv([["ARN", d.ARN], ["Description", d.Description], ["KMS key", d.KmsKeyId], ["Created", UI.date(d.CreatedDate)],
      ["Last changed", UI.date(d.LastChangedDate)], ["Last accessed", UI.date(d.LastAccessedDate)], ["Deleted", UI.date(d.DeletedDate)],
      ["Rotation", d.RotationEnabled ? `every ${(d.RotationRules || {}).AutomaticallyAfterDays || "?"} days by ${d.RotationLambdaARN}` : "off"],
      ["Tags", (d.Tags || []).map((t) => h("span", { class: "tag" }, t.Key + "=" + t.Value))]])),
    section("Versions", versionTable),
    section("Put a new value", value, button("Put value", async () => {
      await AWS.json("secretsmanager", "PutSecretValue", { SecretId: d.ARN, SecretString: value.value });
      toast("New version stored");
      location.reload();
    })));
});

async function secrets(content) {
  const { h, table, section, button, toast } = UI;
  const list = [];
  let token;
  do {
    const r = await AWS.json("secretsmanager", "ListSecrets", Object.assign({ MaxResults: 100, IncludePlannedDeletion: true }, token ? { NextToken: token } : {}));
    list.push(...(r.SecretList || []));
    token = r.NextToken;
  } while (token);
  const name = h("input", { id: "new-secret", placeholder: "name", size: 30 });
  const value = h("input", { id: "new-secret-value", placeholder: "value", size: 30, type: "password" });
  content.replaceChildren(
    section("Secrets", table(["Name", "Description", "Last changed", "Rotation", "Deleted"], list.map((s) =>
      [UI.link(s.Name, { secret: s.ARN }), s.Description || "", UI.date(s.LastChangedDate), s.RotationEnabled ? "on" : "off", UI.date(s.DeletedDate)]),
      "No secrets in this account and region.")),
    section("Create a secret", h("div", { class: "row" }, name, value, button("Create", async () => {
      await AWS.json("secretsmanager", "CreateSecret", { Name: name.value.trim(), SecretString: value.value });
      toast("Created " + name.value);
      location.reload();
    }, { id: "create-secret" }))));
}
