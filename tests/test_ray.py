"""`augment run --executor ray` on a real Ray cluster: a head node and a
worker node on this machine (1 CPU each), started once for this file and
stopped afterwards. Every run on the cluster writes the same bytes as a local
run of the same command: chains of offline steps with filters, sharded inputs
and outputs, a worker process killed in the middle of a task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AUGMENT, ROOT, SAMPLES, install_plugin, read_records

pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'roleplay-augment[ray]' (make test installs it)")

from augment.testing.ray_cluster import LocalRayCluster  # noqa: E402

#: A run on the cluster starts worker processes and loads WordNet in each: give it time on a busy machine.
TIMEOUT = 600


@pytest.fixture(scope="session")
def cluster():
    with LocalRayCluster(nodes=2, cpus=1) as running:
        yield running


def corpus(path: Path, n: int, start: int = 0) -> Path:
    """``n`` tavern conversations, each with its number in a field ``n``."""
    lines = (SAMPLES / "tavern.sharegpt.jsonl").read_text().splitlines()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines[i % len(lines)][:-1] + f', "n": {i}}}\n' for i in range(start, start + n)))
    return path


def augment(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(AUGMENT), *map(str, args)], capture_output=True, env={**os.environ, **(env or {})}, cwd=ROOT,
                          timeout=TIMEOUT)
    done.err = done.stderr.decode()
    return done


def on_ray(cluster, *args, env: dict | None = None) -> subprocess.CompletedProcess:
    return augment(*args, "--executor", "ray", "--ray-address", cluster.address, env={**cluster.env, **(env or {})})


def summary(done) -> str:
    return next(line for line in done.err.splitlines() if line.startswith("read "))


def test_a_chain_of_offline_steps_and_filters_writes_the_local_bytes(cluster, tmp_path):
    source = corpus(tmp_path / "in.jsonl", 24)
    chain = ["--seed", "3", "--batch-size", "4", "--on-error", "skip",
             "typos", "--variants", "2", "synonym", "backtranslate", "--via", "spa", "exact-duplicates", "near-duplicates"]
    local = augment("run", source, "-o", tmp_path / "local" / "out.jsonl", "--workers", "1", *chain)
    assert local.returncode == 0, local.err
    remote = on_ray(cluster, "run", source, "-o", tmp_path / "ray" / "out.jsonl", *chain)
    assert remote.returncode == 0, remote.err
    assert "Traceback" not in remote.err

    for name in ("out.jsonl", "out.jsonl.rejects.jsonl", "dataset_info.json"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert summary(remote) == summary(local)
    records = read_records(tmp_path / "ray" / "out.jsonl")
    assert {r["n"] for r in records} == set(range(24))
    assert {s["step"] for r in records for s in r["provenance"]["chain"]} == {"typos", "synonym", "backtranslate"}
    # said before starting: what each step needs, and that both nodes have it; the work went to both
    assert "ray: the steps need typos: only the Python packages; synonym: wordnet; backtranslate: apertium:eng-spa, apertium:spa-eng" in remote.err
    assert "ray: checked 2 node(s) (127.0.0.2, 127.0.0.3): each has what the steps need" in remote.err
    assert "ray: 6 batch(es) on 2 node(s)" in remote.err


def test_sharded_input_and_output(cluster, tmp_path):
    for number, start in enumerate((0, 9, 18)):
        corpus(tmp_path / "data" / f"chats-{number}.jsonl", 9 if number < 2 else 7, start)
    chain = ["--seed", "5", "--batch-size", "5", "typos", "--variants", "2", "exact-duplicates"]
    local = augment("run", tmp_path / "data" / "*.jsonl", "-o", f"{tmp_path}/local/chats/", "--shard-records", "20", "--workers", "1", *chain)
    assert local.returncode == 0, local.err
    remote = on_ray(cluster, "run", tmp_path / "data" / "*.jsonl", "-o", f"{tmp_path}/ray/chats/", "--shard-records", "20", *chain)
    assert remote.returncode == 0, remote.err

    shards = sorted(p.name for p in (tmp_path / "ray" / "chats").iterdir())
    assert shards == sorted(p.name for p in (tmp_path / "local" / "chats").iterdir())
    assert shards == ["part-00000.jsonl", "part-00001.jsonl", "part-00002.jsonl", "part-00003.jsonl"]
    for name in shards:
        assert (tmp_path / "ray" / "chats" / name).read_bytes() == (tmp_path / "local" / "chats" / name).read_bytes(), name
    records = [r for name in shards for r in read_records(tmp_path / "ray" / "chats" / name)]
    assert [len(read_records(tmp_path / "ray" / "chats" / name)) for name in shards] == [20, 20, 20, len(records) - 60]
    # every input record, in input order: the shards of the input one after the other
    numbers = [r["n"] for r in records]
    assert numbers == sorted(numbers) and set(numbers) == set(range(25))
    assert {r["provenance"]["source"]["file"].rsplit("/", 1)[-1] for r in records} == {"chats-0.jsonl", "chats-1.jsonl", "chats-2.jsonl"}
    info = json.loads((tmp_path / "ray" / "dataset_info.json").read_text())
    assert list(info) == ["chats"] and info["chats"]["file_name"] == "chats"


KILL_ONCE = '''
import os, signal
from pathlib import Path

import augment
from augment import Option, TextAugmenter


class KillOnce(TextAugmenter):
    """Kills its own process the first time it sees conversation number --at
    (a file --mark says it happened, with this process's augment package)."""

    name = "kill-once"
    summary = "kills its process once"
    options = (Option("mark", str, ""), Option("at", int, 0))

    def augment(self, conversation, context):
        if conversation.extra.get("n") == self.values["at"]:
            try:
                fd = os.open(self.values["mark"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, augment.__file__.encode())
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)
        return super().augment(conversation, context)

    def augment_text(self, text, rng):
        return text.upper()


@augment.hookimpl
def register_augmenters(register):
    register(KillOnce)
'''


def test_a_worker_killed_in_a_task_loses_and_duplicates_nothing(cluster, tmp_path):
    # The plugin is importable by the driver only (PYTHONPATH): it reaches the workers with the runtime_env.
    site = install_plugin(tmp_path / "site", "augment-kill-once", {"kill_once_plugin": KILL_ONCE}, {"kill-once": "kill_once_plugin"})
    source = corpus(tmp_path / "in.jsonl", 30)
    mark = tmp_path / "killed"
    chain = ["--seed", "2", "--batch-size", "3", "typos", "--variants", "2", "kill-once", "--mark", mark, "--at", "16", "exact-duplicates"]
    env = {"PYTHONPATH": str(site)}
    remote = on_ray(cluster, "run", source, "-o", tmp_path / "ray" / "out.jsonl", *chain, env=env)
    assert remote.returncode == 0, remote.err
    assert mark.exists(), "the step never killed its worker"
    # the worker that died had imported augment from the runtime_env Ray unpacked, not from this checkout
    assert "runtime_resources" in mark.read_text() and "working_dir" in mark.read_text(), mark.read_text()
    assert "kill_once_plugin" in remote.err  # shipped, and said so

    local = augment("run", source, "-o", tmp_path / "local" / "out.jsonl", "--workers", "1", *chain, env=env)  # the mark is there: no kill
    assert local.returncode == 0, local.err
    assert (tmp_path / "ray" / "out.jsonl").read_bytes() == (tmp_path / "local" / "out.jsonl").read_bytes()
    assert summary(remote) == summary(local)
    records = read_records(tmp_path / "ray" / "out.jsonl")
    numbers = [r["n"] for r in records]
    assert numbers == sorted(numbers) and set(numbers) == set(range(30))  # every record, in order
    variants = [(r["n"], r["provenance"]["chain"][0]["variant"]) for r in records if r["provenance"]["chain"]]
    assert len(variants) == len(set(variants))  # none written twice
    keys = [json.dumps(r["conversations"]) for r in records]
    assert len(keys) == len(set(keys))


STEPS = '''
import augment
from augment import AugmentError, TextAugmenter


class Needy(TextAugmenter):
    name = "needy"
    summary = "needs a command no machine has"
    requires = ("command:augment-test-no-such-command",)

    def augment_text(self, text, rng):
        return text.upper()


class Broken(TextAugmenter):
    name = "broken"
    summary = "fails for a reason of its own"

    def augment_text(self, text, rng):
        raise AugmentError("the frobnicator is out of order")


@augment.hookimpl
def register_augmenters(register):
    register(Needy)
    register(Broken)
'''


@pytest.fixture
def plugin_env(tmp_path):
    site = install_plugin(tmp_path / "site", "augment-test-steps", {"test_steps_plugin": STEPS}, {"test-steps": "test_steps_plugin"})
    return {"PYTHONPATH": str(site)}


def test_a_node_without_what_a_step_needs_stops_the_run_before_it_starts(cluster, tmp_path, plugin_env):
    source = corpus(tmp_path / "in.jsonl", 4)
    out = tmp_path / "out.jsonl"
    done = on_ray(cluster, "run", source, "-o", out, "needy", env=plugin_env)
    assert done.returncode == 1, done.err
    assert "ray: the steps need needy: command:augment-test-no-such-command" in done.err
    for node in ("127.0.0.2", "127.0.0.3"):
        assert f"ray: node {node} (" in done.err
    assert "needy needs command:augment-test-no-such-command: no command 'augment-test-no-such-command' on PATH" in done.err
    assert "Traceback" not in done.err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "site"]


def test_a_step_that_fails_in_a_task_says_what_a_local_run_says(cluster, tmp_path, plugin_env):
    source = corpus(tmp_path / "in.jsonl", 4)
    remote = on_ray(cluster, "run", source, "-o", tmp_path / "a.jsonl", "broken", env=plugin_env)
    local = augment("run", source, "-o", tmp_path / "b.jsonl", "--workers", "1", "broken", env=plugin_env)
    assert remote.returncode == local.returncode == 1, remote.err
    assert "Error: the frobnicator is out of order" in remote.err.splitlines()
    assert "Error: the frobnicator is out of order" in local.err.splitlines()
    assert "Traceback" not in remote.err


def test_without_an_address_a_ray_instance_is_started_for_the_run(tmp_path):
    source = corpus(tmp_path / "in.jsonl", 6)
    chain = ["--seed", "9", "--workers", "1", "typos", "--variants", "2"]
    token = Path.home() / ".ray" / "auth_token"
    had_token = token.exists()
    local = augment("run", source, "-o", tmp_path / "local.jsonl", *chain)
    remote = augment("run", source, "-o", tmp_path / "ray.jsonl", "--executor", "ray", *chain)
    assert remote.returncode == 0, remote.err
    assert "ray: running the steps on a local Ray instance with 1 CPU(s), shut down after the run" in remote.err
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert token.exists() == had_token  # the instance's token lived in its environment, not in ~/.ray


def test_without_ray_the_executor_says_how_to_install_it(tmp_path):
    source = corpus(tmp_path / "in.jsonl", 2)
    code = ("import sys; sys.modules['ray'] = None; sys.argv = ['augment'] + sys.argv[1:]; "
            "from augment.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code, "run", str(source), "-o", str(tmp_path / "out.jsonl"), "--executor", "ray", "typos"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "Error: --executor ray needs Ray, which is not installed: pip install 'roleplay-augment[ray]'"


def test_the_in_task_check_names_the_node_and_what_it_lacks(tmp_path, plugin_env, monkeypatch):
    """A node that joined after the check, without what a step needs: the task
    fails with the reason (not a traceback from a remote worker)."""
    from augment.engine import ray_executor
    from augment.engine.chain import Engine, Step
    from augment.engine.records import RecordJob
    from augment_plugins.backtranslate import BackTranslate

    step = BackTranslate(via="spa")
    job = RecordJob([], Engine([Step(step)]))
    monkeypatch.setattr(ray_executor, "_jobs", {})
    monkeypatch.setattr("augment_plugins.backtranslate.installed_modes", lambda: {"eng-spa"})  # spa-eng is missing here
    with pytest.raises(ray_executor.MissingRequirement) as caught:
        ray_executor.job_here("k", [ray_executor._Plain(job)])
    assert str(caught.value).startswith("ray: node ")
    assert "backtranslate needs apertium:spa-eng: no Apertium mode spa-eng here; install one with apt-get" in str(caught.value)


def test_a_chain_that_asks_a_model_runs_on_the_driver_and_says_so(tmp_path):
    from fake_model import answer

    from augment.testing import ScriptedLLM

    source = corpus(tmp_path / "in.jsonl", 3)
    env = {"AUGMENT_CACHE": str(tmp_path / "cache"), "OPENAI_API_KEY": "sk-test"}
    with ScriptedLLM(responder=answer) as llm:
        def run(out, *extra):
            return augment("run", source, "-o", tmp_path / out, "--model", "openai/fake-rp", "--api-base", llm.url, "--no-cache",
                           "--seed", "5", "--repair", *extra, "dialogue-extension", "--turns", "2", env=env)

        remote = run("ray.jsonl", "--executor", "ray", "--ray-address", "127.0.0.1:1")  # no cluster is reached
        local = run("local.jsonl")
    assert remote.returncode == 0, remote.err
    assert "ray: this chain asks a model, so it runs here on the driver" in remote.err
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


def test_a_node_without_apertium_is_named_before_any_work(cluster, tmp_path):
    """A third node whose PATH has bash (Ray needs it) but no apertium."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "bash").symlink_to("/bin/bash")
    number = cluster.add_node(env={"PATH": f"{Path(sys.executable).parent}:{tools}"})
    try:
        cluster.wait_for_nodes(3)
        source = corpus(tmp_path / "in.jsonl", 4)
        done = on_ray(cluster, "run", source, "-o", tmp_path / "out.jsonl", "typos", "backtranslate", "--via", "spa")
    finally:
        cluster.stop_node(number)
        cluster.wait_for_nodes(2)
    assert done.returncode == 1, done.err
    node = f"127.0.0.{2 + number}"
    lines = done.err.splitlines()
    assert lines[-3].startswith(f"Error: ray: node {node} (") and lines[-3].endswith(") cannot run this chain:")
    assert lines[-2:] == [
        "  backtranslate needs apertium:eng-spa: the apertium command is not installed; install one with apt-get (apertium-eng-spa, apertium-eng-cat, ...); 'make setup' installs apertium-eng-spa",
        "  backtranslate needs apertium:spa-eng: the apertium command is not installed; install one with apt-get (apertium-eng-spa, apertium-eng-cat, ...); 'make setup' installs apertium-eng-spa",
    ]
    assert "Traceback" not in done.err and not (tmp_path / "out.jsonl").exists()


KILL_NODE = '''
import os, signal, sys

import augment
from augment import Option, TextAugmenter


class KillNode(TextAugmenter):
    """On the node --node, kills that node in the middle of its first task,
    once (--mark): its raylet (this worker's parent), then this worker's
    process group."""

    name = "kill-node"
    summary = "loses a node once"
    options = (Option("mark", str, ""), Option("node", str, ""))

    def augment(self, conversation, context):
        ray = sys.modules.get("ray")  # not imported by a local run
        if ray is not None and ray.is_initialized() and ray.util.get_node_ip_address() == self.values["node"]:
            try:
                fd = os.open(self.values["mark"], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                os.kill(os.getppid(), signal.SIGKILL)  # the node's raylet, which started this worker
                os.killpg(os.getpgid(0), signal.SIGKILL)
        return super().augment(conversation, context)

    def augment_text(self, text, rng):
        return text.swapcase()


@augment.hookimpl
def register_augmenters(register):
    register(KillNode)
'''


def test_a_node_lost_in_the_middle_of_the_run_loses_and_duplicates_nothing(cluster, tmp_path):
    site = install_plugin(tmp_path / "site", "augment-kill-node", {"kill_node_plugin": KILL_NODE}, {"kill-node": "kill_node_plugin"})
    number = cluster.add_node()
    node = f"127.0.0.{2 + number}"
    try:
        cluster.wait_for_nodes(3)
        source = corpus(tmp_path / "in.jsonl", 36)
        mark = tmp_path / "lost"
        chain = ["--seed", "8", "--batch-size", "3", "typos", "--variants", "2", "kill-node", "--mark", mark, "--node", node, "exact-duplicates"]
        env = {"PYTHONPATH": str(site)}
        remote = on_ray(cluster, "run", source, "-o", tmp_path / "ray" / "out.jsonl", *chain, env=env)
        assert remote.returncode == 0, remote.err
        assert mark.exists(), f"no task ran on {node}"
        assert cluster.processes[number].wait(timeout=60) is not None  # the node is gone
    finally:
        cluster.stop_node(number)
        cluster.wait_for_nodes(2)
    assert "ray: checked 3 node(s)" in remote.err
    local = augment("run", source, "-o", tmp_path / "local" / "out.jsonl", "--workers", "1", *chain, env=env)
    assert local.returncode == 0, local.err
    assert (tmp_path / "ray" / "out.jsonl").read_bytes() == (tmp_path / "local" / "out.jsonl").read_bytes()
    assert summary(remote) == summary(local)
    numbers = [r["n"] for r in read_records(tmp_path / "ray" / "out.jsonl")]
    assert numbers == sorted(numbers) and set(numbers) == set(range(36))
