"""The release tarball `scripts/package` writes, used as the README's "Install without Swift" says: its checksum file,
its contents (stripped binary, README), the libraries the binary loads (system ones only, each from a Debian package
the README names), `--version` with the commit, and a server run from it with the Swift toolchain's folder hidden
(an empty tmpfs over it in a mount namespace of its own) driven through S3, SQS, Secrets Manager and a Lambda invoke.

The tarball is CLOUDLESS_PACKAGE (scripts/test builds it once for the whole suite); without that variable this module
runs scripts/package itself (a release build: minutes).
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
import uuid

import pytest

from helpers import make_client, read_payload
from server import REPO, Server


def toolchain_root():
    """The Swift toolchain's folder: /opt/swift for /opt/swift/usr/bin/swift."""
    swift = os.path.realpath(shutil.which("swift") or "/opt/swift/usr/bin/swift")
    return os.path.dirname(os.path.dirname(os.path.dirname(swift)))


TOOLCHAIN = toolchain_root()


def hidden(argv):
    """`argv` run in a mount namespace of its own where the toolchain's folder is an empty tmpfs (as root; otherwise
    in a user namespace too, where mounting is allowed)."""
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    return ["unshare", "--mount", "--propagation", "private", *user,
            "sh", "-c", 'mount -t tmpfs cloudless-no-toolchain "$1" && shift && exec "$@"', "sh", TOOLCHAIN, *argv]


def expected_commit():
    """What `cloudless --version` should name for a build of this checkout (Plugins/BuildInfoPlugin/write-commit.sh)."""
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "unknown"
    status = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "Sources", "Plugins", "Package.swift"],
                            capture_output=True, text=True, check=True)
    return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def debian_package(library):
    """The Debian package a library file comes from. With usrmerge, dpkg knows a file by the path its package
    shipped (/lib/... or /usr/lib/...), which may be neither the one ldd prints nor the resolved one."""
    def toggled(path):
        return path[4:] if path.startswith("/usr/") else "/usr" + path
    real = os.path.realpath(library)
    for path in (library, real, toggled(library), toggled(real)):
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if owner.returncode == 0:
            return owner.stdout.split(":", 1)[0].strip()
    raise AssertionError(f"{library} belongs to no Debian package")


@pytest.fixture(scope="module")
def tarball():
    path = os.environ.get("CLOUDLESS_PACKAGE")
    if not path:
        env = dict(os.environ)
        env["PATH"] = os.path.join(TOOLCHAIN, "usr", "bin") + os.pathsep + env.get("PATH", "")
        p = subprocess.run([os.path.join(REPO, "scripts", "package")], cwd=REPO, env=env, stdout=subprocess.PIPE,
                           timeout=3600, check=True, text=True)
        path = p.stdout.strip().splitlines()[-1]
    assert os.path.isfile(path), path
    return path


@pytest.fixture(scope="module")
def top(tarball):
    """The tarball's one folder: cloudless-<version>-linux-<arch>."""
    return os.path.basename(tarball).removesuffix(".tar.gz")


@pytest.fixture(scope="module")
def unpacked(tarball, top):
    folder = tempfile.mkdtemp(prefix="cloudless-package-")
    with tarfile.open(tarball) as t:
        t.extractall(folder, filter="tar")
    yield os.path.join(folder, top)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def binary(unpacked):
    return os.path.join(unpacked, "cloudless")


@pytest.fixture(scope="module")
def server(binary):
    """The packaged binary serving with the toolchain hidden; the module's `fns`, `lam` and `endpoint` use it."""
    s = Server(command=hidden([binary])).start(timeout=60)
    yield s
    s.stop()


def test_name_and_checksum_file(tarball, top):
    assert re.fullmatch(r"cloudless-\d+\.\d+\.\d+-linux-" + re.escape(os.uname().machine), top), top
    with open(tarball + ".sha256") as f:
        line = f.read()
    with open(tarball, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert line == f"{digest}  {os.path.basename(tarball)}\n"
    check = subprocess.run(["sha256sum", "-c", os.path.basename(tarball) + ".sha256"], cwd=os.path.dirname(tarball),
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_tarball_holds_the_stripped_binary_and_the_readme(tarball, top, unpacked, binary):
    with tarfile.open(tarball) as t:
        names = sorted(t.getnames())
    expected = [top, f"{top}/README.md", f"{top}/cloudless"]
    expected += [f"{top}/{f}" for f in ("LICENSE", "LICENSE.md", "LICENSE.txt") if os.path.exists(os.path.join(REPO, f))]
    assert names == sorted(expected)
    with open(os.path.join(unpacked, "README.md"), "rb") as packaged, open(os.path.join(REPO, "README.md"), "rb") as ours:
        assert packaged.read() == ours.read()
    assert os.access(binary, os.X_OK)
    sections = subprocess.run(["readelf", "-S", "-W", binary], capture_output=True, text=True, check=True).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections, "the binary is not stripped"


def test_loads_nothing_from_the_toolchain_only_packages_the_readme_names(binary):
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    assert TOOLCHAIN + "/" not in ldd and "not found" not in ldd, ldd
    dynamic = subprocess.run(["readelf", "-d", "-W", binary], capture_output=True, text=True, check=True).stdout
    assert TOOLCHAIN + "/" not in dynamic, dynamic
    for paths in re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]", dynamic):
        assert set(paths.split(":")) <= {"$ORIGIN"}, dynamic  # SwiftPM's own, beside the binary; nothing else
    libraries = re.findall(r"=> (/\S+) \(", ldd)
    assert any("libsqlite3" in lib for lib in libraries), ldd
    # Every library comes from a Debian package the README's install command names.
    packages = {debian_package(lib) for lib in libraries}
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    command = re.search(r"^\s*(?:sudo )?apt-get install (?:-y )?(lib[^\n]+)$", readme, re.M)
    assert command, "README has no `apt-get install` line for the runtime libraries"
    named = set(command.group(1).split())
    assert packages <= named, f"README's install command misses {sorted(packages - named)}"


def test_toolchain_is_really_hidden():
    swift = os.path.join(TOOLCHAIN, "usr", "bin", "swift")
    assert os.path.exists(swift), f"no toolchain at {TOOLCHAIN}: hiding it would prove nothing"
    inside = subprocess.run(hidden(["sh", "-c", f'ls -A "{TOOLCHAIN}"; test -e "{swift}" && echo visible || echo hidden']),
                            capture_output=True, text=True, timeout=30)
    assert inside.returncode == 0, inside.stderr
    assert inside.stdout == "hidden\n"


def test_version_names_the_commit(binary, top):
    p = subprocess.run(hidden([binary, "--version"]), capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    version = top.split("-")[1]
    assert p.stdout == f"cloudless {version} (commit {expected_commit()})\n"


def test_server_runs_without_the_toolchain(server, binary):
    pid = server.proc.pid
    assert os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(binary)  # the server itself, not a wrapper
    assert os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    assert not os.path.exists(f"/proc/{pid}/root{TOOLCHAIN}/usr/bin/swift")
    with open(f"/proc/{pid}/maps") as f:
        maps = f.read()
    assert TOOLCHAIN + "/" not in maps
    assert "libsqlite3" in maps  # the maps are the real ones
    with urllib.request.urlopen(server.endpoint + "/_cloudless/health", timeout=10) as r:
        health = json.loads(r.read())
    assert health["commit"] == expected_commit()


def test_s3_sqs_and_secrets_manager(endpoint):
    s3 = make_client(endpoint)
    bucket = "pkg-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"packaged")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"packaged"

    sqs = make_client(endpoint, "sqs")
    url = sqs.create_queue(QueueName="pkg-" + uuid.uuid4().hex[:12])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert [m["Body"] for m in messages] == ["hello"]

    sm = make_client(endpoint, "secretsmanager")
    name = "pkg/" + uuid.uuid4().hex[:12]
    sm.create_secret(Name=name, SecretString="s3cr3t")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "s3cr3t"


def test_lambda_invoke(fns, lam, endpoint):
    # The function (fixtures/lambda/python) calls back into the packaged server through AWS_ENDPOINT_URL.
    name = fns.create(tag="cb", handler="handler.make_bucket", Timeout=60)["FunctionName"]
    bucket = "pkg-fn-" + uuid.uuid4().hex[:12]
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"bucket": bucket}).encode())
    assert "FunctionError" not in r, r["Payload"].read()
    assert read_payload(r) == [bucket]
    make_client(endpoint).head_bucket(Bucket=bucket)


def test_commit_script(tmp_path):
    """Plugins/BuildInfoPlugin/write-commit.sh, the source of `--version`'s commit, in a repository of its own."""
    script = os.path.join(REPO, "Plugins", "BuildInfoPlugin", "write-commit.sh")
    repo, out = tmp_path / "repo", tmp_path / "gen" / "GeneratedCommit.swift"
    (repo / "Sources").mkdir(parents=True)

    def commit_written():
        subprocess.run(["sh", script, str(repo), str(out)], check=True, timeout=30)
        return re.fullmatch(r'// .*\nlet generatedCommit = "(.*)"\n', out.read_text()).group(1)

    assert commit_written() == "unknown"  # not a git checkout
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "Sources" / "a.swift").write_text("let a = 1\n")
    (repo / "README.md").write_text("read me\n")
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert commit_written() == head
    stamp = os.stat(out).st_mtime_ns
    os.utime(out, ns=(stamp - 10**9, stamp - 10**9))
    assert commit_written() == head
    assert os.stat(out).st_mtime_ns == stamp - 10**9, "an unchanged commit rewrote the file (a needless rebuild)"
    (repo / "README.md").write_text("edited\n")  # not compiled: still the commit
    assert commit_written() == head
    (repo / "Sources" / "b.swift").write_text("let b = 2\n")  # a new source file
    assert commit_written() == head + "-dirty"
    os.remove(repo / "Sources" / "b.swift")
    (repo / "Sources" / "a.swift").write_text("let a = 2\n")
    assert commit_written() == head + "-dirty"
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    second = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert second != head and commit_written() == second
