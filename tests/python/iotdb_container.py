"""IoTDBContainer for apache-iotdb's own integration tests, backed by duet-server.

scripts/iotdb-client-tests.sh puts this file in place of their
tests/integration/iotdb_container.py (a testcontainers IoTDB in Docker) in a
copy of their source package outside our tree. Their tests use it as

    with IoTDBContainer("iotdb:dev") as db:
        Session(db.get_container_host_ip(), db.get_exposed_port(6667))

so each test gets a fresh node: a real duet-server (the binary named by
$DUET_SERVER_BIN) with its own configuration file and data in a new temporary
directory, ports picked by the kernel (port 0, read back from the READY line),
ready once GET /health answers 200. stop() kills it and removes the directory;
the server's log is printed first, so pytest shows it beside a failing test.
"""

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

START_DEADLINE_SECS = 60
STOP_DEADLINE_SECS = 30
LOG_TAIL_BYTES = 20_000


class IoTDBContainer:
    IOTDB_USER = os.environ.get("IOTDB_USER", "root")
    IOTDB_PASSWORD = os.environ.get("IOTDB_PASSWORD", "root")

    def __init__(self, image="apache/iotdb:latest", **kwargs):
        # The image name means nothing here: every test gets the same binary.
        self.binary = os.environ.get("DUET_SERVER_BIN")
        if not self.binary:
            raise RuntimeError("DUET_SERVER_BIN is not set (scripts/iotdb-client-tests.sh sets it)")
        self.work = None
        self.proc = None
        self.rpc_port = None
        self.http_port = None
        self.log_path = None

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop()

    def get_container_host_ip(self):
        return "127.0.0.1"

    def get_exposed_port(self, port):
        if port != 6667:
            raise ValueError(f"only the client RPC port 6667 is exposed, not {port}")
        return self.rpc_port

    def start(self):
        self.work = tempfile.mkdtemp(prefix="duet-iotdb-tests-")
        conf = os.path.join(self.work, "duet.toml")
        with open(conf, "w") as f:
            f.write(
                "[node]\n"
                'name = "iotdb-client-tests"\n'
                f"data_dir = {json.dumps(os.path.join(self.work, 'data'))}\n"
                "[rpc]\n"
                'address = "127.0.0.1"\n'
                "port = 0\n"
                "[http]\n"
                'address = "127.0.0.1"\n'
                "port = 0\n"
            )
        self.log_path = os.path.join(self.work, "server.log")
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "warn")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-c", conf],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
            )
        try:
            deadline = time.monotonic() + START_DEADLINE_SECS
            self._read_ports(deadline)
            self._wait_healthy(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _read_ports(self, deadline):
        """Waits for the READY line; a thread keeps draining stdout after it,
        so the server never blocks on a full pipe."""
        lines = queue.Queue()

        def drain(out):
            for line in out:
                if line.startswith("READY "):
                    lines.put(line)
            lines.put(None)  # stdout closed: the server exited

        threading.Thread(target=drain, args=(self.proc.stdout,), daemon=True).start()
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise RuntimeError(f"duet-server printed no READY line within {START_DEADLINE_SECS} s; log:\n{self._log_tail()}")
        if line is None:
            code = self.proc.wait(timeout=STOP_DEADLINE_SECS)
            raise RuntimeError(f"duet-server exited with {code} before it was ready; log:\n{self._log_tail()}")
        fields = dict(kv.split("=", 1) for kv in line.split()[1:])
        self.rpc_port = int(fields["rpc"].rsplit(":", 1)[1])
        self.http_port = int(fields["http"].rsplit(":", 1)[1])

    def _wait_healthy(self, deadline):
        url = f"http://127.0.0.1:{self.http_port}/health"
        last = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return
                    last = f"HTTP {r.status}"
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}: {e.read()[:500]!r}"
            except OSError as e:
                last = repr(e)
            if self.proc.poll() is not None:
                raise RuntimeError(f"duet-server exited with {self.proc.returncode}; log:\n{self._log_tail()}")
            time.sleep(0.05)
        raise RuntimeError(f"{url} not 200 within {START_DEADLINE_SECS} s (last: {last}); log:\n{self._log_tail()}")

    def stop(self, force=True, delete_volume=True):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_DEADLINE_SECS)
            self.proc = None
            tail = self._log_tail()
            if tail:
                print(f"--- duet-server log (RUST_LOG={os.environ.get('RUST_LOG', 'warn')}) ---\n{tail}")
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = None
        return self

    def _log_tail(self):
        if self.log_path is None:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - LOG_TAIL_BYTES))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""
