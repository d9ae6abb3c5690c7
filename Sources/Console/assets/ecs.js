// ECS: clusters; a cluster's services (deployments, counts, events) and tasks (containers' state and health),
// refreshed every 2 s; a task's container logs from its awslogs configuration.
"use strict";
UI.start(async (content) => {
  const { h, section, table, kv, button } = UI;
  const cluster = UI.param("cluster");
  const ecs = (op, input) => AWS.json("ecs", op, input);
  if (!cluster) {
    const arns = (await ecs("ListClusters", {})).clusterArns || [];
    const clusters = arns.length ? (await ecs("DescribeClusters", { clusters: arns })).clusters : [];
    content.replaceChildren(section("Clusters", table(["Name", "Status", "Services", "Running", "Pending"], clusters.map((c) =>
      [UI.link(c.clusterName, { cluster: c.clusterName }), c.status, String(c.activeServicesCount), String(c.runningTasksCount), String(c.pendingTasksCount)]),
      "No clusters in this account and region.")));
    return;
  }
  const services = section("Services");
  const tasks = section("Tasks");
  const logs = section("Task logs", h("p", { class: "muted" }, "Choose a task's “Logs”."));
  content.replaceChildren(h("p", {}, UI.link("All clusters", {}), " / ", h("strong", {}, cluster)), services, tasks, logs);
  const definitions = new Map();
  let selected = null;
  UI.poll(async () => {
    const serviceArns = (await ecs("ListServices", { cluster, maxResults: 100 })).serviceArns || [];
    const list = serviceArns.length ? (await ecs("DescribeServices", { cluster, services: serviceArns })).services : [];
    services.replaceChildren(h("h2", {}, "Services"), ...(list.length ? list.map((s) => h("div", { class: "service" },
      h("h3", {}, s.serviceName), kv([["Status", s.status], ["Desired / running / pending", `${s.desiredCount} / ${s.runningCount} / ${s.pendingCount}`], ["Task definition", s.taskDefinition]]),
      table(["Deployment", "Status", "Rollout", "Desired", "Running", "Pending", "Failed", "Updated"], (s.deployments || []).map((d) =>
        [d.id, d.status, d.rolloutState || "", String(d.desiredCount), String(d.runningCount), String(d.pendingCount), String(d.failedTasks || 0), UI.date(d.updatedAt)])),
      table(["Event time", "Message"], (s.events || []).slice(0, 10).map((e) => [UI.date(e.createdAt), e.message])))) : [h("p", { class: "muted" }, "No services.")]));
    const taskArns = (await ecs("ListTasks", { cluster, maxResults: 100 })).taskArns || [];
    const described = taskArns.length ? (await ecs("DescribeTasks", { cluster, tasks: taskArns })).tasks : [];
    tasks.replaceChildren(h("h2", {}, "Tasks"), table(["Task", "Group", "Last / desired", "Health", "Containers", ""], described.map((t) =>
      [t.taskArn.split("/").pop(), t.group || "", `${t.lastStatus} / ${t.desiredStatus}`, t.healthStatus || "",
        h("span", {}, (t.containers || []).map((c) => h("div", {}, `${c.name}: ${c.lastStatus}${c.healthStatus ? " (" + c.healthStatus + ")" : ""}${c.exitCode != null ? " exit " + c.exitCode : ""}`))),
        button("Logs", async () => { selected = t; await showLogs(t); })]), "No tasks."));
    if (selected) await showLogs(selected);  // the chosen task's logs follow along
  }, 2000, (e) => services.replaceChildren(UI.errorBox(e)));

  async function showLogs(task) {
    if (!definitions.has(task.taskDefinitionArn)) {
      definitions.set(task.taskDefinitionArn, (await ecs("DescribeTaskDefinition", { taskDefinition: task.taskDefinitionArn })).taskDefinition);
    }
    const def = definitions.get(task.taskDefinitionArn);
    const id = task.taskArn.split("/").pop();
    const parts = [h("h2", {}, "Task logs: " + id)];
    for (const c of def.containerDefinitions) {
      const lc = c.logConfiguration;
      if (!lc || lc.logDriver !== "awslogs") { parts.push(h("p", { class: "muted" }, c.name + ": no awslogs configuration")); continue; }
      const o = lc.options || {};
      const stream = `${o["awslogs-stream-prefix"]}/${c.name}/${id}`;
      try {
        const r = await AWS.json("logs", "GetLogEvents", { logGroupName: o["awslogs-group"], logStreamName: stream, startFromHead: false, limit: 200 });
        parts.push(h("h3", {}, `${c.name} (${o["awslogs-group"]} ${stream})`), h("pre", {}, (r.events || []).map((e) => e.message).join("\n") || "(no events)"));
      } catch (e) { parts.push(h("p", { class: "muted" }, `${c.name}: ${e.message}`)); }
    }
    logs.replaceChildren(...parts);
  }
});
