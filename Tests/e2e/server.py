"""Start and stop a Cloudless binary for the end-to-end suite.

The suite drives the real binary (never a test double) on a free port with a temporary data folder.
CLOUDLESS_BIN overrides the binary; E2E_ENDPOINT points the suite at an already running server
(used to check a test itself against another emulator)."""
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def binary_path():
    return os.environ.get("CLOUDLESS_BIN") or os.path.join(REPO, ".build", "debug", "cloudless")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One cloudless process. `start()` waits until /_cloudless/health answers."""

    # Every server and data folder of the session, for the check after the suite that nothing they started lives on.
    started = []

    def __init__(self, data_dir=None, args=(), env=None, port=None, command=None):
        self.command = list(command or [])  # what runs the binary instead of binary_path() (test_package.py)
        self.port = port or free_port()
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="cloudless-e2e-")
        self.args = list(args)
        self.env = env or {}
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "..", f"cloudless-{self.port}.log")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        env = dict(os.environ)
        env.update(self.env)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [*(self.command or [binary_path()]), "serve", "--port", str(self.port), "--data-dir", self.data_dir, *self.args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        Server.started.append(self)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cloudless exited with {self.proc.returncode}; log: {self.log_path}")
            try:
                with urllib.request.urlopen(self.endpoint + "/_cloudless/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except Exception:
                time.sleep(0.02)
        raise RuntimeError("cloudless did not become ready")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        return self.stop(sig=signal.SIGKILL)


def live_processes():
    """(pid, cmdline, cwd, environ bytes) of every live process but this one; zombies and processes that end while
    being read are skipped (cwd and environ are empty where they cannot be read)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    environ = f.read()
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                environ, cwd = b"", ""
        except (FileNotFoundError, ProcessLookupError, IndexError, PermissionError):
            continue
        yield pid, cmdline, cwd, environ


def leftover_processes(servers):
    """[(pid, cmdline)] of live processes the given Cloudless servers (pid, data folder) started and left behind:
    servers still running, and function instances (and their children), found by the `AWS_LAMBDA_RUNTIME_API`
    variable only Cloudless sets or by a working folder under one of the servers' data folders."""
    pids = {pid for pid, _ in servers if pid}
    roots = {os.path.realpath(d) for _, d in servers}
    return [(pid, cmdline) for pid, cmdline, cwd, environ in live_processes()
            if pid in pids or b"AWS_LAMBDA_RUNTIME_API=" in environ or b"ECS_CONTAINER_METADATA_URI_V4=" in environ
            or any(cwd == r or cwd.startswith(r + "/") for r in roots)]
