// SQS: queues with attributes and counts, send, peek (the internal peek endpoint: no receive is counted), purge,
// dead-letter relations and message move tasks.
"use strict";
UI.start(async (content, session) => {
  const { h, table, section, kv, button, toast } = UI;
  const url = UI.param("queue");
  if (!url) return queues(content);
  const name = url.split("/").pop();
  const attrs = (await AWS.json("sqs", "GetQueueAttributes", { QueueUrl: url, AttributeNames: ["All"] })).Attributes || {};
  const fifo = name.endsWith(".fifo");
  const redrive = attrs.RedrivePolicy ? JSON.parse(attrs.RedrivePolicy) : null;
  const sources = (await AWS.json("sqs", "ListDeadLetterSourceQueues", { QueueUrl: url })).queueUrls || [];
  const info = section("Attributes", kv(Object.entries(attrs).sort().map(([k, v]) => [k, k.endsWith("Timestamp") ? UI.date(Number(v)) : v])));
  const relations = section("Dead-letter relations", kv([
    ["Dead-letter queue", redrive ? UI.link(redrive.deadLetterTargetArn.split(":").pop(), { queue: urlFor(redrive.deadLetterTargetArn) }) : h("span", { class: "muted" }, "none")],
    ["Max receives", redrive ? String(redrive.maxReceiveCount) : ""],
    ["Source queues", sources.length ? h("span", {}, sources.map((s) => h("span", { class: "tag" }, UI.link(s.split("/").pop(), { queue: s })))) : h("span", { class: "muted" }, "none")],
  ]));

  const body = h("textarea", { id: "message-body", placeholder: "Message body" });
  const group = fifo ? h("input", { id: "message-group", placeholder: "MessageGroupId", value: "default" }) : null;
  const delay = fifo ? null : h("input", { id: "message-delay", type: "number", min: 0, max: 900, value: 0, size: 4 });
  const send = section("Send a message", body, h("div", { class: "row" }, group, delay ? ["Delay (s) ", delay] : "",
    button("Send", async () => {
      const input = { QueueUrl: url, MessageBody: body.value };
      if (fifo) { input.MessageGroupId = group.value; if (attrs.ContentBasedDeduplication !== "true") input.MessageDeduplicationId = String(Date.now()); }
      else if (Number(delay.value)) input.DelaySeconds = Number(delay.value);
      const r = await AWS.json("sqs", "SendMessage", input);
      toast("Sent " + r.MessageId);
      document.getElementById("sent-id").textContent = r.MessageId;
      await peek();
    }, { id: "send" }), h("span", { id: "sent-id", class: "muted" })));

  const peekBox = h("div", { id: "peek" });
  const messages = section("Messages (peek: nothing is received)", h("div", { class: "row" }, button("Peek", peek, { id: "peek-button" }),
    button("Purge", async () => {
      if (!confirm(`Purge every message of ${name}?`)) return;
      await AWS.json("sqs", "PurgeQueue", { QueueUrl: url });
      toast("Purge started");
      await peek();
    }, { class: "danger", id: "purge" }),
    button("Delete queue", async () => {
      if (!confirm(`Delete queue ${name}?`)) return;
      await AWS.json("sqs", "DeleteQueue", { QueueUrl: url });
      location.href = location.pathname;
    }, { class: "danger" })), peekBox);

  const moves = section("Message move tasks");
  content.replaceChildren(h("p", {}, UI.link("All queues", {}), " / ", h("strong", {}, name)), messages, send, info, relations, moves);
  await peek();
  if (sources.length) await moveTasks();
  else moves.append(h("p", { class: "muted" }, "Move tasks redrive a dead-letter queue; this queue is no queue's dead-letter queue."));

  async function peek() {
    const account = url.split("/").slice(-2)[0];
    // Signed: under --strict-auth peek answers only its own account's queues.
    const d = await AWS.internal(`/_cloudless/sqs/peek/${AWS.uriEncode(account)}/${AWS.uriEncode(session.region)}/${AWS.uriEncode(name)}`);
    peekBox.replaceChildren(table(["Id", "Body", "State", "Receives", "Sent", "Group"], d.messages.map((m) =>
      [m.messageId, h("pre", { class: "message-body" }, m.body), m.state, String(m.receiveCount), UI.date(m.sentTimestamp), m.messageGroupId || ""]), "The queue is empty."));
  }
  async function moveTasks() {
    const arn = attrs.QueueArn;
    const list = (await AWS.json("sqs", "ListMessageMoveTasks", { SourceArn: arn, MaxResults: 10 })).Results || [];
    const destination = h("input", { placeholder: "destination ARN (default: each message's source queue)", size: 50 });
    moves.replaceChildren(h("h2", {}, "Message move tasks"),
      table(["Task", "Status", "Moved", "To move", "Destination", "Started", "Failure"], list.map((t) =>
        [t.TaskHandle ? "running" : "", t.Status, String(t.ApproximateNumberOfMessagesMoved), String(t.ApproximateNumberOfMessagesToMove || ""),
          t.DestinationArn || "(sources)", UI.date(t.StartedTimestamp), t.FailureReason || ""])),
      h("div", { class: "row" }, destination, button("Start a move task", async () => {
        const input = { SourceArn: arn };
        if (destination.value.trim()) input.DestinationArn = destination.value.trim();
        await AWS.json("sqs", "StartMessageMoveTask", input);
        toast("Move task started");
        await moveTasks();
      })));
  }
});

// A queue URL from its ARN, on this server.
function urlFor(arn) {
  const p = arn.split(":");
  return `${location.origin}/${p[4]}/${p[5]}`;
}

async function queues(content) {
  const { h, table, section, button, toast } = UI;
  const urls = [];
  let token;
  do {
    const r = await AWS.json("sqs", "ListQueues", Object.assign({ MaxResults: 1000 }, token ? { NextToken: token } : {}));
    urls.push(...(r.QueueUrls || []));
    token = r.NextToken;
  } while (token);
  const rows = await Promise.all(urls.map(async (u) => {
    const a = (await AWS.json("sqs", "GetQueueAttributes", { QueueUrl: u, AttributeNames: ["All"] })).Attributes || {};
    const dlq = a.RedrivePolicy ? JSON.parse(a.RedrivePolicy).deadLetterTargetArn.split(":").pop() : "";
    return [UI.link(u.split("/").pop(), { queue: u }), a.ApproximateNumberOfMessages, a.ApproximateNumberOfMessagesNotVisible,
      a.ApproximateNumberOfMessagesDelayed, dlq, UI.date(Number(a.CreatedTimestamp))];
  }));
  const name = h("input", { id: "new-queue", placeholder: "queue-name (.fifo for FIFO)", size: 30 });
  content.replaceChildren(
    section("Queues", table(["Name", "Visible", "In flight", "Delayed", "Dead-letter queue", "Created"], rows, "No queues in this account and region.")),
    section("Create a queue", h("div", { class: "row" }, name, button("Create", async () => {
      const n = name.value.trim();
      await AWS.json("sqs", "CreateQueue", { QueueName: n, Attributes: n.endsWith(".fifo") ? { FifoQueue: "true" } : {} });
      toast("Created " + n);
      location.reload();
    }, { id: "create-queue" }))));
}
