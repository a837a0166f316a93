"""A real Ray cluster on this machine, for tests and benchmarks of
``augment run --executor ray`` (a plugin's too).

A head node and worker nodes, each a ``ray start --block`` process of the
``ray`` command beside this Python, in its own session, so that
:meth:`LocalRayCluster.stop` ends exactly the processes it started (their
process groups) and no other Ray on the machine. The nodes listen on loopback
addresses of their own (the head on 127.0.0.2, workers on 127.0.0.3, ...):
Ray turns ``127.0.0.1`` into the machine's outward address, and a node with
an address of its own behaves as a separate machine would. The cluster uses
token authentication with a fresh token; :attr:`env` holds what a driver
needs to connect (``--ray-address`` :attr:`address`).

    with LocalRayCluster(nodes=2, cpus=1) as cluster:
        subprocess.run(["augment", "run", ..., "--executor", "ray", "--ray-address", cluster.address], env={**os.environ, **cluster.env})

Every wait is bounded and fails with what the node printed.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class ClusterError(RuntimeError):
    pass


class LocalRayCluster:
    def __init__(self, nodes: int = 2, cpus: int = 1, timeout: float = 180, object_store_mb: int = 100) -> None:
        self.nodes = nodes
        self.cpus = cpus
        self.timeout = timeout
        self.object_store = object_store_mb << 20
        self.ray = str(Path(sys.executable).parent / "ray")
        if not os.access(self.ray, os.X_OK):
            found = shutil.which("ray")
            if found is None:
                raise ClusterError(f"no ray command beside {sys.executable} or on PATH: pip install 'roleplay-augment[ray]'")
            self.ray = found
        self.temp = Path(tempfile.mkdtemp(prefix="rayc-"))  # short: Ray's socket paths must stay under 107 bytes
        self.address: str | None = None
        #: What a driver needs in its environment to reach the cluster.
        self.env = {
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    # -- starting ---------------------------------------------------------------
    def __enter__(self) -> "LocalRayCluster":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "LocalRayCluster":
        self._spawn("head", [
            "--head", "--port=0", "--node-ip-address=127.0.0.2", "--include-dashboard=false",
            f"--temp-dir={self.temp}",
        ])
        address_file = self.temp / "ray_current_cluster"
        self._wait(lambda: address_file.is_file() and address_file.read_text().strip(), "the head node to write its address", 0)
        self.address = address_file.read_text().strip()
        for _ in range(self.nodes - 1):
            self.add_node()
        self.wait_for_nodes(self.nodes)
        return self

    def add_node(self, env: dict[str, str] | None = None) -> int:
        """One more worker node (its processes get ``env`` on top of this
        one's: a PATH without a tool, say); returns its index in :attr:`processes`."""
        number = len(self.processes)
        self._spawn(f"worker{number}", [f"--address={self.address}", f"--node-ip-address=127.0.0.{2 + number}"], env)
        self._wait(lambda: "Ray runtime started" in self.logs[number].read_text(errors="replace"), f"worker node {number} to start", number)
        return number

    def _spawn(self, name: str, args: list[str], extra: dict[str, str] | None = None) -> None:
        log = self.temp / f"{name}.log"
        env = {**os.environ, **self.env, **(extra or {})}
        cmd = [self.ray, "start", *args, f"--num-cpus={self.cpus}", f"--object-store-memory={self.object_store}",
               "--disable-usage-stats", "--block"]
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
        self.processes.append(proc)
        self.logs.append(log)

    def _wait(self, ready, what: str, number: int) -> None:
        deadline = time.monotonic() + self.timeout
        while not ready():
            proc = self.processes[number]
            if proc.poll() is not None:
                raise ClusterError(f"waiting for {what}: `ray start` exited with {proc.returncode}:\n{self._tail(number)}")
            if time.monotonic() > deadline:
                raise ClusterError(f"waiting for {what}: nothing after {self.timeout:.0f} s:\n{self._tail(number)}")
            time.sleep(0.2)

    def _tail(self, number: int) -> str:
        try:
            return "\n".join(self.logs[number].read_text(errors="replace").splitlines()[-15:])
        except OSError:
            return "(no log)"

    def wait_for_nodes(self, count: int) -> None:
        """Until the cluster has exactly ``count`` alive nodes (asked from a driver process)."""
        probe = (
            "import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False, logging_level='ERROR'); "
            "print(sum(1 for n in ray.nodes() if n['Alive']))"
        )
        deadline = time.monotonic() + self.timeout
        seen = "nothing"
        while time.monotonic() < deadline:
            done = subprocess.run([sys.executable, "-c", probe, self.address], capture_output=True, text=True,
                                  env={**os.environ, **self.env}, timeout=self.timeout)
            seen = done.stdout.strip() or done.stderr.strip()[-500:]
            if done.returncode == 0 and seen.isdigit() and int(seen) == count:
                return
            time.sleep(1)
        raise ClusterError(f"the cluster at {self.address} did not reach {count} alive nodes in {self.timeout:.0f} s (last: {seen})")

    # -- stopping ---------------------------------------------------------------
    def kill_node(self, number: int) -> None:
        """SIGKILL a worker node's whole process group: the machine is gone."""
        proc = self.processes[number]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def stop_node(self, number: int) -> None:
        """Stop one node the way ``ray stop`` would (it leaves the cluster)."""
        proc = self.processes[number]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)

    def stop(self) -> None:
        """End the nodes this cluster started (workers first), by their process groups."""
        for proc in reversed(self.processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # `ray start --block` stops its node's processes
        deadline = time.monotonic() + 60
        for proc in reversed(self.processes):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.processes:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group (workers a raylet did not end)
            except ProcessLookupError:
                pass
            if proc.poll() is None:
                proc.wait(timeout=30)
        shutil.rmtree(self.temp, ignore_errors=True)
