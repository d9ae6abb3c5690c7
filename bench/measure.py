"""What the benchmark scripts share: which binary to run, percentiles, a process's CPU time, a free port."""
import os
import socket

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def default_bin():
    """The release build when there is one, else the debug build."""
    release = os.path.join(REPO, ".build", "release", "cloudless")
    return release if os.path.exists(release) else os.path.join(REPO, ".build", "debug", "cloudless")


def pct(values, p):
    """The p-th percentile (nearest rank) of `values`."""
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def cpu_seconds(pid):
    """utime+stime of a process, in seconds (/proc/PID/stat fields 14 and 15; 10 ms ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
