"""The request window stays full across batches: a batch waiting for its
slowest request does not hold the next batch's requests back."""

from __future__ import annotations

import threading

import pytest
from fake_model import answer
from test_llm_faults import first_lines, model_run, sent

from augment.engine.workers import run_overlapped
from augment.testing import ScriptedLLM


def test_the_next_batch_is_sent_while_a_slow_request_of_the_previous_one_waits(tmp_path):
    arrived = threading.Semaphore(0)
    released = threading.Event()
    first = threading.Lock()

    def responder(body):
        if first.acquire(blocking=False):  # the first request waits for requests of the next batch
            for _ in range(3):
                if not arrived.acquire(timeout=60):
                    return answer(body)  # held back: the test fails below
            released.set()
        else:
            arrived.release()
        return answer(body)

    with ScriptedLLM(responder=responder) as llm:
        # 4 records, 2 a batch: without the overlap only 1 other request could arrive
        code, err, out = model_run(tmp_path, llm.url, "--no-cache", "--batch-size", "2", "--concurrency", "4", "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 4))
        assert code == 0, err
        assert released.is_set(), "the second batch's requests waited for the first batch's slowest request"
        assert len(llm.requests) == sent(err) == 4
    records = out.read_text().splitlines()
    assert len(records) == 8  # 4 originals, 4 extended, in input order
    with ScriptedLLM(responder=answer) as llm:
        code, err, one_batch = model_run(tmp_path, llm.url, "--no-cache", "--concurrency", "1", "dialogue-extension", "--turns", "2", source=first_lines(tmp_path, 4), out="serial.jsonl")
        assert code == 0, err
    assert one_batch.read_bytes() == out.read_bytes()


def test_overlapped_batches_come_back_in_order_and_an_error_reaches_the_caller():
    first_may_finish = threading.Event()

    def job(batch):
        if batch[0] == 0:
            assert first_may_finish.wait(timeout=60), "batch 0 ran alone"
        if batch[0] == 1:
            first_may_finish.set()  # batch 1 runs, and ends, while batch 0 waits
        if batch[0] == 3:
            raise ValueError("batch 3 failed")
        return [x * 10 for x in batch]

    results = run_overlapped(job, ([i] for i in range(4)), 2)
    assert [next(results) for _ in range(3)] == [[0], [10], [20]]
    with pytest.raises(ValueError, match="batch 3 failed"):
        next(results)
