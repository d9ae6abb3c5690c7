"""Secret values are encrypted at rest and never logged; the master key guards the data folder.

- Known, distinctive values (strings and binaries) go through every operation that carries a value, at the
  most verbose log level; then every file of the data folder (SQLite database, WAL, shm, logs, anything)
  and the server log are scanned for them, raw, hex and base64 (each alignment): zero hits, after a kill -9
  (WAL not checkpointed) and after a clean stop. `master.key` is mode 0600.
- A data folder opened with another master key (CLOUDLESS_MASTER_KEY, or master.key removed) refuses to
  start, quickly, with a message about the master key, instead of serving garbage; a malformed
  CLOUDLESS_MASTER_KEY is refused too.

Runs its own servers on temporary data folders: needs the cloudless binary."""
import base64
import binascii
import os
import secrets
import shutil
import stat
import subprocess
import tempfile
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import error, sm_client
from server import Server, binary_path, free_port


@pytest.fixture
def data_dir():
    d = tempfile.mkdtemp(prefix="cloudless-sm-rest-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _forms(value):
    """Byte strings whose presence in a file would reveal `value`: the raw bytes, hex (both cases) and the
    part of its base64 (standard and URL-safe) that does not depend on the bytes around it, for each of the
    three alignments."""
    forms = {value, binascii.hexlify(value), binascii.hexlify(value).upper()}
    for k in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            e = enc(b"\0" * k + value)
            forms.add(e[4:-4])
    return {f for f in forms if len(f) >= 16}


def _scan(paths, values):
    """[(path, value)] for every file under `paths` (folders walked) that holds a form of a value."""
    hits = []
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                files += [os.path.join(root, n) for n in names]
        elif os.path.exists(p):
            files.append(p)
    assert files
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        for v in values:
            if any(form in data for form in _forms(v)):
                hits.append((f, v))
    return hits


def _marker(kind):
    # Distinctive and not hex-only, so that its hex form differs from it.
    return f"SEKRIT-{kind}-{secrets.token_urlsafe(24)}"


def test_values_never_reach_the_disk_or_the_logs_in_clear(data_dir):
    server = Server(data_dir=data_dir, args=["--log-level", "trace"]).start()
    sm = sm_client(server.endpoint)
    west = sm_client(server.endpoint, region="us-west-2")
    s1, s2, s3, s4, s5, s6 = (_marker(k) for k in ("create", "put", "update", "rejected", "both", "batch"))
    b1 = b"\x00\xffBIN-" + secrets.token_bytes(32)
    b2 = ("BIN2-" + secrets.token_hex(20)).encode()
    values = [s.encode() for s in (s1, s2, s3, s4, s5, s6)] + [b1, b2]
    token = str(uuid.uuid4())

    sm.create_secret(Name="at-rest/string", SecretString=s1, Description="the description is not secret",
                     AddReplicaRegions=[{"Region": "us-west-2"}])
    sm.create_secret(Name="at-rest/binary", SecretBinary=b1)
    sm.put_secret_value(SecretId="at-rest/string", SecretString=s2, ClientRequestToken=token)
    sm.update_secret(SecretId="at-rest/binary", SecretBinary=b2)
    sm.update_secret(SecretId="at-rest/string", SecretString=s3)
    sm.create_secret(Name="at-rest/batch", SecretString=s6)
    # Rejected requests carrying values: the value is not echoed in the error either.
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId="at-rest/string", SecretString=s4, ClientRequestToken=token)
    assert error(e) == ("ResourceExistsException", 400)
    assert s4 not in str(e.value.response)
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name="at-rest/both", SecretString=s5, SecretBinary=b"x")
    assert s5 not in str(e.value.response)
    # Reads of every kind.
    assert sm.get_secret_value(SecretId="at-rest/string")["SecretString"] == s3
    assert sm.get_secret_value(SecretId="at-rest/string", VersionId=token)["SecretString"] == s2
    assert sm.get_secret_value(SecretId="at-rest/binary", VersionStage="AWSPREVIOUS")["SecretBinary"] == b1
    assert west.get_secret_value(SecretId="at-rest/string")["SecretString"] == s3
    got = sm.batch_get_secret_value(SecretIdList=["at-rest/batch", "at-rest/binary"])["SecretValues"]
    assert {v["Name"] for v in got} == {"at-rest/batch", "at-rest/binary"}

    # kill -9: the WAL is left as it is, not checkpointed.
    server.kill9()
    hits = _scan([data_dir, server.log_path], values)
    assert hits == [], f"secret values in clear after kill -9: {hits}"

    key = os.path.join(data_dir, "master.key")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600, oct(os.stat(key).st_mode)

    # Everything decrypts after the restart; then a clean stop, and the same scan.
    server = Server(data_dir=data_dir, port=server.port, args=["--log-level", "trace"]).start()
    sm = sm_client(server.endpoint)
    assert sm.get_secret_value(SecretId="at-rest/string")["SecretString"] == s3
    assert sm.get_secret_value(SecretId="at-rest/string", VersionId=token)["SecretString"] == s2
    assert sm.get_secret_value(SecretId="at-rest/binary")["SecretBinary"] == b2
    assert sm.get_secret_value(SecretId="at-rest/binary", VersionStage="AWSPREVIOUS")["SecretBinary"] == b1
    assert sm.get_secret_value(SecretId="at-rest/batch")["SecretString"] == s6
    assert sm_client(server.endpoint, region="us-west-2").get_secret_value(
        SecretId="at-rest/string")["SecretString"] == s3
    assert server.stop() == 0
    hits = _scan([data_dir, server.log_path], values)
    assert hits == [], f"secret values in clear after a clean stop: {hits}"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_scan_finds_a_value_written_in_clear(tmp_path):
    """The scan itself can fail: each form of a value is found."""
    value = _marker("probe").encode()
    for i, form in enumerate([value, binascii.hexlify(value), base64.b64encode(b"ab" + value),
                              base64.urlsafe_b64encode(b"a" + value)]):
        (tmp_path / f"f{i}").write_bytes(b"prefix" + form + b"suffix")
        assert _scan([str(tmp_path / f"f{i}")], [value]) == [(str(tmp_path / f"f{i}"), value)]
    (tmp_path / "clean").write_bytes(secrets.token_bytes(4096))
    assert _scan([str(tmp_path / "clean")], [value]) == []


def _start_expecting_refusal(data_dir, env):
    """Run `cloudless serve` on data_dir; it must exit non-zero within 10 s. Returns its output."""
    full_env = dict(os.environ)
    full_env.pop("CLOUDLESS_MASTER_KEY", None)
    full_env.update(env)
    cmd = [binary_path(), "serve", "--port", str(free_port()), "--data-dir", data_dir]
    try:
        p = subprocess.run(cmd, capture_output=True, env=full_env, timeout=10)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"cloudless kept running with env {env}: {e}") from None
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode != 0, out
    return out


def _mentions_master_key(out):
    low = out.lower()
    return "master key" in low or "master.key" in low or "cloudless_master_key" in low


def test_env_master_key_works_across_restarts_and_another_key_is_refused(data_dir):
    key_a = secrets.token_hex(32)
    server = Server(data_dir=data_dir, env={"CLOUDLESS_MASTER_KEY": key_a}).start()
    sm = sm_client(server.endpoint)
    sm.create_secret(Name="keyed", SecretString="opened with key A")
    sm.create_secret(Name="keyed-bin", SecretBinary=b"\x01\x02\x03")
    assert server.stop() == 0
    # The key came from the environment: it is not written to the data folder.
    assert not os.path.exists(os.path.join(data_dir, "master.key"))

    key_b = secrets.token_hex(32)
    out = _start_expecting_refusal(data_dir, {"CLOUDLESS_MASTER_KEY": key_b})
    assert _mentions_master_key(out), out
    assert key_a not in out and key_b not in out  # keys are not printed
    # Without any key (a new master.key would not open this data either).
    out = _start_expecting_refusal(data_dir, {})
    assert _mentions_master_key(out), out

    # The right key still opens everything.
    server = Server(data_dir=data_dir, env={"CLOUDLESS_MASTER_KEY": key_a.upper()}).start()
    sm = sm_client(server.endpoint)
    assert sm.get_secret_value(SecretId="keyed")["SecretString"] == "opened with key A"
    assert sm.get_secret_value(SecretId="keyed-bin")["SecretBinary"] == b"\x01\x02\x03"
    server.stop()


def test_master_key_file_replaced_or_overridden_is_refused(data_dir):
    server = Server(data_dir=data_dir).start()
    sm_client(server.endpoint).create_secret(Name="filed", SecretString="opened with master.key")
    assert server.stop() == 0
    key_file = os.path.join(data_dir, "master.key")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    original = open(key_file, "rb").read()

    out = _start_expecting_refusal(data_dir, {"CLOUDLESS_MASTER_KEY": secrets.token_hex(32)})
    assert _mentions_master_key(out), out

    os.remove(key_file)
    out = _start_expecting_refusal(data_dir, {})
    assert _mentions_master_key(out), out

    with open(key_file, "wb") as f:
        f.write(original)
    os.chmod(key_file, 0o600)
    server = Server(data_dir=data_dir).start()
    assert sm_client(server.endpoint).get_secret_value(SecretId="filed")["SecretString"] == "opened with master.key"
    server.stop()


@pytest.mark.parametrize("bad", ["abc", "0" * 63, "0" * 65, "zz" * 32])
def test_malformed_master_key_is_refused(data_dir, bad):
    out = _start_expecting_refusal(data_dir, {"CLOUDLESS_MASTER_KEY": bad})
    assert _mentions_master_key(out), out
