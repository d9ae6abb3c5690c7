// S3: buckets and their configuration, browsing by prefix, upload, download, delete, versions and delete markers.
"use strict";
UI.start(async (content, session) => {
  const { h, table, section, kv, button, toast } = UI;
  const bucket = UI.param("bucket");
  if (!bucket) return buckets(content, session);
  const prefix = UI.param("prefix") || "";
  const versions = UI.param("versions") === "1";
  content.replaceChildren(h("p", {}, UI.link("All buckets", {}), " / ", h("strong", {}, bucket)));

  // Configuration: each sub-resource's document, or what its NoSuch… error says.
  const config = section("Configuration", h("p", { class: "muted" }, "Loading…"));
  const browse = section(versions ? "Versions" : "Objects");
  content.append(config, browse);
  // All asked at once, drawn when the last answers (the listing below does not wait for them).
  const configuration = Promise.all([["location", "Location"], ["versioning", "Versioning"], ["encryption", "Encryption"], ["tagging", "Tags"],
    ["cors", "CORS"], ["lifecycle", "Lifecycle"], ["policy", "Policy"], ["notification", "Notifications"], ["website", "Website"]].map(async ([sub, label]) => {
    try {
      const t = await (await AWS.s3("GET", bucket, null, { query: [[sub, ""]] })).text();
      return [label, sub === "policy" ? h("pre", {}, t) : h("pre", {}, summarize(t))];
    } catch (e) { return [label, h("span", { class: "muted" }, e.code || e.message)]; }
  })).then((pairs) => config.replaceChildren(h("h2", {}, "Configuration"), kv(pairs)));

  // Upload into the current prefix.
  const file = h("input", { type: "file", id: "upload-file" });
  const upload = button("Upload", async () => {
    if (!file.files.length) throw new Error("Choose a file first.");
    const f = file.files[0];
    await AWS.s3("PUT", bucket, prefix + f.name, { body: f, headers: { "content-type": f.type || "application/octet-stream" } });
    toast(`Uploaded ${prefix + f.name}`);
    location.reload();
  }, { id: "upload" });
  const nav = h("div", { class: "row" }, "Prefix: ", h("code", {}, "/" + prefix), prefix ? UI.link("up", { bucket, prefix: parent(prefix) || null, versions: versions ? "1" : null }) : "",
    " · ", versions ? UI.link("hide versions", { bucket, prefix: prefix || null }) : UI.link("show versions", { bucket, prefix: prefix || null, versions: "1" }),
    " · ", file, upload,
    button("Delete bucket", async () => {
      if (!confirm(`Delete bucket ${bucket}? It must be empty.`)) return;
      await AWS.s3("DELETE", bucket, null);
      location.href = location.pathname;
    }, { class: "danger" }));
  browse.append(nav);

  const q = [["delimiter", "/"], ["prefix", prefix]];
  if (versions) {
    const d = await AWS.s3xml("GET", bucket, null, { query: [["versions", ""], ...q] });
    const rows = [];
    for (const e of Array.from(d.documentElement.children)) {
      if (e.localName !== "Version" && e.localName !== "DeleteMarker") continue;
      const key = AWS.text(e, "Key"), vid = AWS.text(e, "VersionId");
      const marker = e.localName === "DeleteMarker";
      rows.push([key, vid, marker ? h("span", { class: "tag" }, "delete marker") : UI.size(AWS.text(e, "Size")),
        AWS.text(e, "IsLatest") === "true" ? "latest" : "", UI.date(AWS.text(e, "LastModified")),
        h("span", {}, marker ? "" : button("Download", async () => UI.download(await AWS.s3("GET", bucket, key, { query: [["versionId", vid]] }), key.split("/").pop())),
          button("Delete version", async () => {
            if (!confirm(`Delete version ${vid} of ${key} for good?`)) return;
            await AWS.s3("DELETE", bucket, key, { query: [["versionId", vid]] });
            location.reload();
          }, { class: "danger" }))]);
    }
    browse.append(prefixes(d), table(["Key", "Version", "Size", "", "Modified", ""], rows, "No versions under this prefix."));
    await configuration;
    return;
  }
  let token = null;
  const rows = [];
  let listing;
  do {
    listing = await AWS.s3xml("GET", bucket, null, { query: [["list-type", "2"], ...q, ...(token ? [["continuation-token", token]] : [])] });
    for (const o of AWS.all(listing, "Contents")) {
      const key = AWS.text(o, "Key");
      rows.push([h("span", { class: "object-key" }, key.slice(prefix.length)), UI.size(AWS.text(o, "Size")), UI.date(AWS.text(o, "LastModified")), AWS.text(o, "StorageClass"),
        h("span", {}, button("Download", async () => UI.download(await AWS.s3("GET", bucket, key), key.split("/").pop())),
          button("Delete", async () => {
            if (!confirm(`Delete ${key}?`)) return;
            await AWS.s3("DELETE", bucket, key);
            location.reload();
          }, { class: "danger" }))]);
    }
    browse.append(prefixes(listing));
    token = AWS.text(listing.documentElement, "NextContinuationToken");
  } while (token && rows.length < 5000);
  browse.append(table(["Key", "Size", "Modified", "Class", ""], rows, "No objects under this prefix."));
  await configuration;

  function prefixes(d) {
    const list = AWS.all(d, "CommonPrefixes").map((p) => AWS.text(p, "Prefix"));
    return list.length ? h("ul", {}, list.map((p) => h("li", {}, UI.link(p.slice(prefix.length), { bucket, prefix: p, versions: versions ? "1" : null })))) : "";
  }
});

function parent(prefix) {
  const parts = prefix.replace(/\/$/, "").split("/");
  parts.pop();
  return parts.length ? parts.join("/") + "/" : "";
}

// A configuration document as indented text without its XML noise.
function summarize(xmlText) {
  if (!xmlText.trim()) return "(empty)";
  const d = AWS.xml(xmlText);
  const lines = [];
  const walk = (e, depth) => {
    const kids = Array.from(e.children);
    if (!kids.length) { lines.push("  ".repeat(depth) + e.localName + ": " + e.textContent); return; }
    lines.push("  ".repeat(depth) + e.localName);
    kids.forEach((k) => walk(k, depth + 1));
  };
  Array.from(d.documentElement.children).forEach((k) => walk(k, 0));
  return lines.length ? lines.join("\n") : d.documentElement.textContent || "(none)";
}

async function buckets(content, session) {
  const { h, table, section, button, toast } = UI;
  const d = await AWS.s3xml("GET", null, null);
  const rows = AWS.all(d, "Bucket").map((b) => [UI.link(AWS.text(b, "Name"), { bucket: AWS.text(b, "Name") }), UI.date(AWS.text(b, "CreationDate")), AWS.text(b, "BucketRegion")]);
  const name = h("input", { id: "new-bucket", placeholder: "bucket-name", size: 30 });
  content.replaceChildren(
    section("Buckets", table(["Name", "Created", "Region"], rows, "No buckets in this account.")),
    section("Create a bucket", h("div", { class: "row" }, name, button("Create", async () => {
      const body = session.region === "us-east-1" ? null
        : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${session.region}</LocationConstraint></CreateBucketConfiguration>`;
      await AWS.s3("PUT", name.value.trim(), null, { body });
      toast(`Created ${name.value}`);
      location.reload();
    }, { id: "create-bucket" }))));
}
