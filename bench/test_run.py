"""Unit tests of bench/run.py's pure parts: rows and table, targets, baseline comparison, README splice, package
size. No server is started.   python3 -m pytest bench/test_run.py"""

import io
import json
import os
import sys
import tarfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

TARGETS = {
    "start_existing_ms": {"max": 20, "holds": "opening databases"},
    "start_fresh_ms": {"max": 30},
    "idle_rss_mib": {"max": 20, "holds": "thread pools", "profile": "bench/profiles/idle.txt",
                     "see": ["idle_pss_mib", "no_such_row"]},
    "s3_put_1k_cpu_ms": {"max": 0.3},
    "s3_put_64m_cpu_ms": {"max_x_floor": 1.2, "holds": "CRC32 and copies"},
    "s3_put_64m_x_floor": {"max": 1.2},
    "sqs_send_cpu_ms": {"max": 0.2},
}


def server(ready_existing, ready_fresh, rss, put1k, put64m=None, floor=None, rps=None, **extra):
    r = {"ready_existing_ms": ready_existing, "ready_existing_ms_all": [ready_existing, ready_existing + 1, ready_existing + 2],
         "ready_fresh_ms": ready_fresh, "ready_fresh_ms_all": [ready_fresh] * 3,
         "ready_existing_cpu_ms": ready_existing / 2, "ready_fresh_cpu_ms": ready_fresh / 2,
         "idle_rss_mib": rss, "idle_pss_mib": rss / 2, "rss_after_load_mib": rss * 2,
         "ops": {"s3_put_1k": {"server_cpu_ms_per_op": put1k, "wall_ms_p50": 3.0},
                 "sqs_send": {"error": "ClientError: boom"}}}
    if put64m is not None:
        r["ops"]["s3_put_64m"] = {"server_cpu_ms_per_op": put64m, "wall_ms_p50": 900.0}
    if floor is not None:
        r["floor_64m"] = {"ms": floor}
    if rps is not None:
        r["wrk"] = {"s3_get_1k_wrk": {"requests_per_s": rps, "server_cpu_ms_per_req": 0.2}}
    r.update(extra)
    return r


def results():
    return {
        "cloudless": server(12.0, 45.0, 30.0, 0.25, put64m=200.0, floor=100.0, rps=5000.0,
                            size={"basis": "given binary", "binary": "/x/cloudless", "binary_bytes": 64 * run.MiB,
                                  "note": "no dist tarball"}),
        "moto": server(900.0, 950.0, 60.0, 5.0, put64m=500.0, floor=101.0, rps=200.0),
    }


def table_lines(text):
    return {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines()[2:]}


def test_rows_have_the_issue_figures():
    ids = [r.id for r in run.build_rows(results())]
    for fid in ("start_existing_ms", "start_fresh_ms", "start_existing_cpu_ms", "start_fresh_cpu_ms", "idle_rss_mib", "idle_pss_mib", "s3_put_1k_cpu_ms",
                "floor_64m_ms", "s3_put_64m_cpu_ms", "s3_put_64m_x_floor", "s3_get_1k_wrk_rps", "size_binary_mib"):
        assert fid in ids
    assert ids.index("floor_64m_ms") < ids.index("s3_put_64m_cpu_ms") < ids.index("s3_put_64m_x_floor")
    assert len(ids) == len(set(ids))


def test_table_marks_targets_and_states_what_holds_them():
    text = run.markdown_table(results(), ["cloudless", "moto", "localstack"], TARGETS)
    lines = table_lines(text)
    assert text.splitlines()[0] == "| metric | target | Cloudless | moto | what holds it |"
    assert lines["start → first answer, existing data folder (best of 3)"] == \
        "| start → first answer, existing data folder (best of 3) | ≤ 20 ms | 12.0 ms ✓ | 900 ms |  |"
    fresh = lines["start → first answer, fresh data folder (best of 3)"]
    assert "45.0 ms ✗" in fresh and "not stated in bench/targets.json" in fresh
    rss = lines["idle RSS (1 s after ready)"]
    assert "30.0 MiB ✗" in rss
    assert "thread pools [this run: idle PSS (smaps_rollup): 15.0 MiB] (profile: `bench/profiles/idle.txt`)" in rss
    assert "0.250 ms ✓" in lines["server CPU / S3 PutObject 1 KiB, signed"]
    # the 64 MiB target is relative to the floor measured in the same run, for Cloudless's column
    put = lines["server CPU / S3 PutObject 64 MiB"]
    assert "≤ 1.2 × floor = 120 ms" in put and "200 ms ✗" in put and "CRC32 and copies" in put
    assert "2.00 × ✗" in lines["S3 PutObject 64 MiB: server CPU ÷ floor"]
    assert "≤ 1.2×" in lines["S3 PutObject 64 MiB: server CPU ÷ floor"]
    # peers never get a mark; an operation that failed says error; untargeted rows are plain
    assert "| 5.00 ms |" in lines["server CPU / S3 PutObject 1 KiB, signed"]
    assert "| error | error |" in lines["server CPU / SQS SendMessage"]
    send = lines["server CPU / SQS SendMessage"]
    assert send.endswith("| not measured in this run |")
    assert "5,000" in lines["S3 GET 1 KiB (wrk, unsigned): requests/s"]
    assert "✓" not in lines["idle PSS (smaps_rollup)"] and "✗" not in lines["idle PSS (smaps_rollup)"]


def test_rows_nobody_measured_are_left_out_and_detail_rows_only_on_the_console():
    full = run.markdown_table(results(), ["cloudless", "moto"], TARGETS)
    short = run.markdown_table(results(), ["cloudless", "moto"], TARGETS, detail=False)
    assert "p50 wall time / S3 PutObject 1 KiB, signed (boto3)" in full
    assert "p50 wall" not in short
    assert "SQS long-poll" not in full  # not measured by anyone
    assert "ReceiveMessage" not in full


def test_size_rows_say_what_was_measured():
    rows = {r.id: r for r in run.build_rows(results())}
    assert rows["size_binary_mib"].vals == {"cloudless": 64.0}
    assert "given binary" in rows["size_binary_mib"].label and rows["size_binary_mib"].basis == "given binary"
    r = results()
    r["cloudless"]["size"] = {"basis": "package", "tarball": "dist/cloudless-1.0-linux-x86_64.tar.gz",
                              "tarball_bytes": 20 * run.MiB, "binary_bytes": 60 * run.MiB}
    rows = {r.id: r for r in run.build_rows(r)}
    assert rows["size_tarball_mib"].vals["cloudless"] == 20.0 and rows["size_binary_mib"].vals["cloudless"] == 60.0
    assert "cloudless-1.0-linux-x86_64.tar.gz" in rows["size_tarball_mib"].label


def test_targets_summary():
    rows = run.build_rows(results())
    lines = run.targets_summary(rows, results(), TARGETS)
    assert lines[0] == "- targets met: 2 of 7"
    assert any("✗ idle RSS" in line and "thread pools" in line for line in lines)
    assert any("not measured: server CPU / SQS SendMessage" in line for line in lines)
    good = {"start_existing_ms": {"max": 20}}
    assert run.targets_summary(rows, results(), good) == ["- targets met: 1 of 1 — every target met"]


def test_figures_keep_cloudless_values_only():
    figs = run.figures(run.build_rows(results()))
    assert figs["start_existing_ms"] == {"label": "start → first answer, existing data folder (best of 3)",
                                         "value": 12.0, "better": "lower"}
    assert figs["s3_get_1k_wrk_rps"]["better"] == "higher"
    assert figs["floor_64m_ms"]["better"] is None
    assert figs["size_binary_mib"]["basis"] == "given binary"
    assert not any(k.endswith("_wall_p50_ms") for k in figs)  # console-only rows are not figures
    assert "sqs_send_cpu_ms" not in figs  # failed: no value


def fig(v, better="lower", **kw):
    return {"label": "x", "value": v, "better": better, **kw}


def test_compare_lower_is_better():
    base = {"a": fig(10.0), "b": fig(10.0), "c": fig(10.0), "d": fig(10.0)}
    cur = {"a": fig(12.1), "b": fig(11.9), "c": fig(7.9), "d": fig(12.0)}
    st = {r["id"]: r["status"] for r in run.compare(base, cur)}
    assert st == {"a": "regressed", "b": "ok", "c": "improved", "d": "ok"}  # exactly +20 % is not > 20 %
    assert [r["id"] for r in run.check_failed(run.compare(base, cur))] == ["a"]


def test_compare_higher_is_better():
    base = {"rps": fig(1000.0, "higher"), "rps2": fig(1000.0, "higher"), "rps3": fig(1000.0, "higher")}
    cur = {"rps": fig(790.0, "higher"), "rps2": fig(810.0, "higher"), "rps3": fig(1300.0, "higher")}
    st = {r["id"]: r["status"] for r in run.compare(base, cur)}
    assert st == {"rps": "regressed", "rps2": "ok", "rps3": "improved"}


def test_compare_missing_basis_context_and_new():
    base = {"gone": fig(1.0), "size": fig(60.0, basis="package"), "floor": fig(100.0, None)}
    cur = {"size": fig(90.0, basis="given binary"), "floor": fig(500.0, None), "new": fig(1.0)}
    st = {r["id"]: r["status"] for r in run.compare(base, cur)}
    assert st == {"gone": "missing", "size": "basis", "floor": "context"}  # new figures are not compared
    assert [r["id"] for r in run.check_failed(run.compare(base, cur))] == ["gone"]
    assert run.check_failed(run.compare(base, cur, partial=True)) == []
    table = run.check_table(run.compare(base, cur))
    assert "**NOT MEASURED**" in table and "not compared" in table


def test_compare_round_trip_of_a_run_passes():
    figs = run.figures(run.build_rows(results()))
    cmp = run.compare(json.loads(json.dumps(figs)), figs)
    assert run.check_failed(cmp) == []
    worse = results()
    worse["cloudless"]["ops"]["s3_put_1k"]["server_cpu_ms_per_op"] = 0.25 * 1.3
    bad = run.check_failed(run.compare(figs, run.figures(run.build_rows(worse))))
    assert [r["id"] for r in bad] == ["s3_put_1k_cpu_ms"] and bad[0]["change"] == pytest.approx(0.3)


def test_splice_readme():
    text = "# T\n\n## Benchmark\n\nintro\n\n<!-- bench:begin -->\nold table\n<!-- bench:end -->\n\nafter\n"
    out = run.splice_readme(text, "| new |\n")
    assert out == "# T\n\n## Benchmark\n\nintro\n\n<!-- bench:begin -->\n| new |\n<!-- bench:end -->\n\nafter\n"
    assert run.splice_readme(out, "| new |") == out  # idempotent
    for bad in ("no markers\n", text.replace("<!-- bench:end -->", ""),
                "<!-- bench:end -->\n<!-- bench:begin -->\n", text + "<!-- bench:begin -->\n"):
        with pytest.raises(ValueError):
            run.splice_readme(bad, "x")


def test_readme_block_and_the_real_readme_markers():
    doc = {"started": "2026-12-07T10:00:00", "quick": False, "order": ["cloudless", "moto", "localstack"],
           "host": {"cpus": 2}, "meta": {"cloudless_bin": "/r/.build/release/cloudless", "git": "abcdef1234567",
                                         "loadavg_start": 3.25},
           "servers": results(), "skipped": {"localstack": "exited with code 1 before ready; log tail:\n  x"}}
    block = run.readme_block(doc, TARGETS)
    assert "2026-12-07 10:00" in block and "release build `/r/.build/release/cloudless`, repository at commit abcdef1234" in block and "load average 3.2" in block
    assert "| metric | target | Cloudless | moto | what holds it |" in block
    assert "- LocalStack: skipped — exited with code 1 before ready; log tail:" in block
    assert "p50 wall" not in block
    with open(run.README_PATH) as f:
        readme = f.read()
    assert readme.count(run.README_BEGIN) == 1 and readme.count(run.README_END) == 1
    assert readme.index(run.README_BEGIN) < readme.index(run.README_END)
    assert readme.index("## Benchmark") < readme.index(run.README_BEGIN)


def test_checked_in_targets_and_baseline_are_consistent():
    targets = run.load_targets()
    full = results()
    for name in run.OPS:
        full["cloudless"]["ops"][name] = {"server_cpu_ms_per_op": 1.0, "wall_ms_p50": 1.0}
    full["cloudless"]["sqs_wake"] = {"p50_ms": 1.0, "p99_ms": 2.0}
    ids = {r.id for r in run.build_rows(full)}
    for fid, spec in targets.items():
        assert fid in ids, f"bench/targets.json: {fid} is no row of bench/run.py"
        assert ("max" in spec) != ("max_x_floor" in spec), fid
        for see in spec.get("see", []):
            assert see in ids, f"bench/targets.json: {fid} sees {see}, no row of bench/run.py"
        if spec.get("profile"):
            assert os.path.exists(os.path.join(run.REPO, spec["profile"])), spec["profile"]
    for fid in ("start_existing_ms", "start_fresh_ms", "idle_rss_mib", "s3_put_1k_cpu_ms", "s3_get_1k_cpu_ms",
                "sqs_send_cpu_ms", "secrets_get_cpu_ms", "s3_put_64m_cpu_ms"):
        assert fid in targets, f"issue 14's target {fid} is missing from bench/targets.json"
    if os.path.exists(run.BASELINE_PATH):
        with open(run.BASELINE_PATH) as f:
            base = json.load(f)
        for fid, b in base["figures"].items():
            assert b["better"] in ("lower", "higher", None) and isinstance(b["value"], (int, float)), fid


def test_package_sizes(tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    binary = tmp_path / "cloudless"
    binary.write_bytes(b"\0" * 5000)
    assert run.package_sizes(str(dist), str(binary))["basis"] == "given binary"
    assert run.package_sizes(str(dist), str(binary))["binary_bytes"] == 5000
    for arch in ("aarch64", "x86_64"):
        with tarfile.open(dist / f"cloudless-1.2.3-linux-{arch}.tar.gz", "w:gz") as t:
            for name, data in ((f"cloudless-1.2.3/bin/cloudless", b"\1" * 3000), ("cloudless-1.2.3/LICENSE", b"MIT")):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    assert run.find_package(str(dist), "x86_64").endswith("linux-x86_64.tar.gz")
    assert run.find_package(str(dist), "aarch64").endswith("linux-aarch64.tar.gz")
    s = run.package_sizes(str(dist), str(binary))
    assert s["basis"] == "package" and s["binary_bytes"] == 3000 and s["unpacked_bytes"] == 3003
    assert s["tarball_bytes"] == os.path.getsize(s["tarball"] if os.path.isabs(s["tarball"])
                                                 else os.path.join(run.REPO, s["tarball"]))


def test_hash_floor_and_pss_of_this_process():
    f = run.measure_hash_floor(b"\0" * run.MiB, 3)
    assert f["passes"] == 3 and len(f["ms_all"]) == 3 and f["ms"] > 0 and f["bytes"] == run.MiB
    assert f["ms"] == pytest.approx(sorted(f["ms_all"])[1])
    assert 0 < run.tree_pss_bytes(os.getpid()) <= run.tree_rss_bytes(os.getpid()) * 1.01


def test_arguments():
    assert run.parse_args([]).only == ["cloudless", "moto", "localstack"]
    assert run.parse_args(["--check"]).only == ["cloudless"]
    assert run.parse_args(["--check", "--only", "cloudless,moto"]).only == ["cloudless", "moto"]
    assert run.parse_args(["--readme"]).readme == run.README_PATH
    assert run.parse_args(["--readme", "/tmp/R.md"]).readme == "/tmp/R.md"
    assert not run.OPS["s3_list_versions_page"].default and run.OPS["s3_put_1k"].default
    run.parse_args([]).__class__  # help text must format (a stray % breaks --help)
    with pytest.raises(SystemExit) as e:
        run.parse_args(["--help"])
    assert e.value.code == 0


def test_best_figures_keeps_the_better_value_of_two_runs():
    a = {"t": fig(10.0), "rps": fig(100.0, "higher"), "size": fig(60.0, basis="package"), "only_a": fig(1.0)}
    b = {"t": fig(8.0), "rps": fig(90.0, "higher"), "size": fig(50.0, basis="given binary"), "only_b": fig(2.0)}
    best = run.best_figures(a, b)
    assert best["t"]["value"] == 8.0 and best["rps"]["value"] == 100.0
    assert best["size"]["value"] == 60.0  # not mixed across bases
    assert best["only_a"]["value"] == 1.0 and best["only_b"]["value"] == 2.0
    base = {"t": fig(7.0)}
    assert run.check_failed(run.compare(base, a)) and not run.check_failed(run.compare(base, run.best_figures(a, b)))


def test_floor_rows_of_the_per_request_rows():
    r = results()
    for name, v in (("s3_get_1k", 0.3), ("floor_sts", 0.2), ("floor_health_paced", 0.18), ("floor_health", 0.085)):
        r["cloudless"]["ops"][name] = {"server_cpu_ms_per_op": v, "wall_ms_p50": 3.0}
    rows = {row.id: row for row in run.build_rows(r)}
    ids = [row.id for row in run.build_rows(r)]
    assert rows["floor_sts_cpu_ms"].label == "floor: server CPU / STS GetCallerIdentity, signed (boto3; no storage)"
    assert rows["floor_health_paced_cpu_ms"].label.startswith("floor: server CPU / unsigned GET /_cloudless/health")
    assert "paced like the boto3 calls" in rows["floor_health_paced_cpu_ms"].label
    assert "back to back" in rows["floor_health_cpu_ms"].label
    assert rows["floor_health_cpu_ms"].vals["cloudless"] == 0.085 and rows["floor_health_cpu_ms"].better == "lower"
    # measured after the rows they are the floor of, so those are measured as before
    assert ids.index("secrets_get_cpu_ms") < ids.index("floor_sts_cpu_ms") < ids.index("floor_health_paced_cpu_ms") \
        < ids.index("floor_health_cpu_ms")
    assert list(run.OPS)[-3:] == ["floor_sts", "floor_health_paced", "floor_health"]
    assert run.OPS["floor_health"].servers == ("cloudless",) and run.OPS["floor_sts"].servers is None
    # a per-request row's holds quotes them
    text = run.markdown_table(r, ["cloudless", "moto"], {"s3_get_1k_cpu_ms": {
        "max": 0.2, "holds": "wake-ups", "see": ["floor_sts_cpu_ms", "floor_health_paced_cpu_ms", "floor_health_cpu_ms"]}})
    line = table_lines(text)["server CPU / S3 GetObject 1 KiB, signed"]
    assert "0.300 ms ✗" in line and "wake-ups [this run:" in line
    assert "0.200 ms" in line and "0.180 ms" in line and "0.085 ms" in line


def test_checked_in_per_request_targets_see_their_floors():
    targets = run.load_targets()
    for fid in ("s3_put_1k_cpu_ms", "s3_get_1k_cpu_ms", "sqs_send_cpu_ms", "secrets_get_cpu_ms"):
        for floor in ("floor_sts_cpu_ms", "floor_health_paced_cpu_ms", "floor_health_cpu_ms"):
            assert floor in targets[fid].get("see", []), f"{fid} does not quote {floor}"


class _KeptAliveServer:
    """A loopback HTTP/1.1 server answering every GET on one connection with a fixed body."""

    def __init__(self, body=b'{"status":"ok"}', status=200):
        import socket
        import threading
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests = 0
        self.answer = (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                       .encode() + body)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.listener.accept()
        buf = b""
        with conn:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
                while b"\r\n\r\n" in buf:
                    _, _, buf = buf.partition(b"\r\n\r\n")
                    self.requests += 1
                    # the answer in two pieces: the client must wait for the whole body
                    conn.sendall(self.answer[:-3])
                    conn.sendall(self.answer[-3:])

    def close(self):
        self.listener.close()


def test_kept_alive_get_reads_whole_answers_on_one_connection():
    srv = _KeptAliveServer()
    try:
        c = run.KeptAliveGet(srv.port, "/_cloudless/health")
        assert [c.get() for _ in range(5)] == [200] * 5
        assert srv.requests == 5 and c.buf == b""
        c.close()
    finally:
        srv.close()


def test_health_floor_paces_its_requests_like_boto3():
    import time
    srv = _KeptAliveServer()
    try:
        ctx = run.Ctx(f"http://127.0.0.1:{srv.port}")
        ctx.state["boto3_pace_s"] = 0.004
        run._setup_health(ctx, True)
        t = time.perf_counter()
        for i in range(6):
            run._health(ctx, i, True)
        # five intervals of 4 ms between six requests
        assert time.perf_counter() - t >= 5 * 0.004
        assert ctx.state["op_extra"]["floor_health_paced"] == {"pace_ms": pytest.approx(4.0)}
        ctx.state["health_paced"].close()
        run._setup_health(ctx, False)
        assert ctx.state["health_pace_s"] == 0.0
    finally:
        srv.close()


def test_health_floor_fails_on_an_error_status():
    srv = _KeptAliveServer(status=503)
    try:
        ctx = run.Ctx(f"http://127.0.0.1:{srv.port}")
        run._setup_health(ctx, False)
        with pytest.raises(RuntimeError, match="503"):
            run._health(ctx, 0, False)
    finally:
        srv.close()
