"""The test SMSC (``tests/smsc/smsc.js``, node-smpp's server) driven from Python:
started on a free port, commanded through its stdin, its submit_sm log read
back.  Needs node and ``npm ci`` in tests/smsc (``.ci/run`` does it)."""

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> bool:
    return bool(shutil.which("node")) and (HERE / "node_modules" / "smpp").is_dir()


class Smsc:
    def __init__(self, **config):
        self.dir = tempfile.mkdtemp(prefix="smsc-")
        self.log = os.path.join(self.dir, "submits.jsonl")
        self.config = {
            "system_id": "cabinet",
            "password": "secret",
            "log": self.log,
            **config,
        }
        self.proc = subprocess.Popen(
            ["node", str(HERE / "smsc.js"), json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self._next("port", 20)["port"]
        self._stats_seq = 0

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                pass

    def _next(self, key, timeout=10, match=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if key in item and (match is None or match(item[key])):
                return item
        raise TimeoutError(f"the test SMSC did not answer {key}")

    def url(self, system_id="cabinet", password="secret", **query) -> str:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return f"smpp://{system_id}:{password}@127.0.0.1:{self.port}" + (
            f"?{q}" if q else ""
        )

    def command(self, cmd: str, **kwargs) -> None:
        self.proc.stdin.write(json.dumps({"cmd": cmd, **kwargs}) + "\n")
        self.proc.stdin.flush()

    def stats(self) -> dict:
        self._stats_seq += 1
        seq = self._stats_seq
        self.command("stats", id=seq)
        return self._next("stats", match=lambda s: s.get("id") == seq)["stats"]

    def submits(self) -> list[dict]:
        self.stats()  # flushes the log
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def accepted_per_destination(self) -> Counter:
        return Counter(s["dest"] for s in self.submits() if s["status"] == 0)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)
