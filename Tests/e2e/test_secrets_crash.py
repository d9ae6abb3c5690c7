"""Secrets Manager durability: kill -9 the server while threads run PutSecretValue, restart it on the same
data folder, and check that

- every acknowledged PutSecretValue is there: its VersionId exists and reads back the value written,
- each secret has exactly one AWSCURRENT version: the last acknowledged put, or the one put that was in
  flight at the kill (each thread has at most one), never an older one,
- the secrets still decrypt after several crashes in a row.

Each thread writes its own secret with its own ClientRequestTokens, so "last" is well defined."""
import random
import shutil
import tempfile
import threading
import time
import uuid

from helpers import make_client, version_stages
from server import Server

ROUNDS = 3
WRITERS = 4


def _client(endpoint):
    return make_client(endpoint, "secretsmanager", connect_timeout=3, read_timeout=20, max_pool_connections=16)


def test_acknowledged_puts_survive_kill_9():
    data_dir = tempfile.mkdtemp(prefix="cloudless-sm-crash-")
    try:
        server = Server(data_dir=data_dir).start()
        sm = _client(server.endpoint)
        names = [f"crash/writer-{w}" for w in range(WRITERS)]
        values = {}  # VersionId -> value written (attempted, acknowledged or not)
        acked = {n: [] for n in names}  # acknowledged VersionIds, in order
        in_flight = {n: None for n in names}  # the VersionId of the put running at the kill, if any
        lock = threading.Lock()
        for n in names:
            vid = sm.create_secret(Name=n, SecretString=f"{n}-initial")["VersionId"]
            values[vid] = f"{n}-initial"
            acked[n].append(vid)

        for round_no in range(ROUNDS):
            stop = threading.Event()

            def writer(name):
                client = _client(server.endpoint)
                while not stop.is_set():
                    token = str(uuid.uuid4())
                    value = f"{name}-r{round_no}-{token}"
                    with lock:
                        values[token] = value
                        in_flight[name] = token
                    try:
                        out = client.put_secret_value(SecretId=name, SecretString=value, ClientRequestToken=token)
                    except Exception:
                        return  # the server died mid-request: not acknowledged
                    assert out["VersionId"] == token
                    with lock:
                        acked[name].append(token)
                        in_flight[name] = None

            threads = [threading.Thread(target=writer, args=(n,)) for n in names]
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.3, 0.9))
            server.kill9()
            stop.set()
            for t in threads:
                t.join(30)
            server = Server(data_dir=data_dir, port=server.port).start()
            sm = _client(server.endpoint)

            for n in names:
                stages = version_stages(sm, n, include_deprecated=True)
                missing = [v for v in acked[n] if v not in stages]
                assert not missing, f"{n}: {len(missing)} acknowledged versions lost, e.g. {missing[:3]}"
                current = [v for v, s in stages.items() if "AWSCURRENT" in s]
                assert len(current) == 1, f"{n}: AWSCURRENT on {current}"
                allowed = {acked[n][-1]} | ({in_flight[n]} if in_flight[n] else set())
                assert current[0] in allowed, f"{n}: AWSCURRENT on {current[0]}, expected one of {allowed}"
                got = sm.get_secret_value(SecretId=n)
                assert (got["VersionId"], got["SecretString"]) == (current[0], values[current[0]])
                if current[0] == in_flight[n]:
                    acked[n].append(in_flight[n])  # it made it: from now on it counts as written
                in_flight[n] = None
                # A sample of acknowledged versions, the newest included, reads back exactly.
                sample = acked[n][-3:] + random.sample(acked[n], min(15, len(acked[n])))
                for vid in sample:
                    assert sm.get_secret_value(SecretId=n, VersionId=vid)["SecretString"] == values[vid]
        assert sum(len(v) for v in acked.values()) > 50, "the load generator did not run"
        server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
