"""Long computations asked by several sessions at once run once, and at most a few run at a time
(issue 23): ``cached._keys._remembered`` with real threads (each thread a session's script run)."""

from __future__ import annotations

import threading
import time

import pytest
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from neurogenesis.cached import _keys
from neurogenesis.errors import InputError


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setenv("NEUROGENESIS_COMPUTE_SLOTS", "1")
    _keys._store.clear()
    _keys._slots.clear()
    yield
    _keys._store.clear()
    _keys._slots.clear()


def _in_threads(*targets) -> list:
    """Runs each target in its own thread, started in order a little apart; their results (or
    the exceptions they raised)."""
    results: list = [None] * len(targets)

    def run(index, target):
        try:
            results[index] = target()
        except BaseException as error:  # noqa: BLE001 - returned to the test
            results[index] = error

    threads = [threading.Thread(target=run, args=item) for item in enumerate(targets)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    return results


def test_the_same_computation_asked_at_once_runs_once_and_the_waiter_sees_its_progress():
    calls, seen = [], []
    release = threading.Event()

    def compute(progress):
        calls.append(1)
        progress(0.5)
        release.wait(10)
        return {"value": 42}

    def ask():
        return _keys._remembered("t", ("k",), compute, progress=seen.append)

    def ask_then_release():
        time.sleep(0.6)  # long enough for the second session to be waiting
        release.set()
        return "released"

    first, second, _ = _in_threads(ask, ask, ask_then_release)
    assert calls == [1]
    assert first == second == {"value": 42}
    assert first is second  # one object in memory for every session
    assert seen.count(0.5) >= 2  # the leader's report and the waiter's view of it


def test_an_input_error_reaches_every_waiting_session_once():
    calls = []

    def compute(_progress):
        calls.append(1)
        time.sleep(0.5)
        raise InputError("Expected a model with an output layer.")

    results = _in_threads(*[lambda: _keys._remembered("t", ("bad",), compute)] * 2)
    assert calls == [1]
    assert all(isinstance(r, InputError) for r in results)
    assert all(str(r) == "Expected a model with an output layer." for r in results)


def test_a_stopped_session_hands_the_computation_to_the_one_waiting():
    calls = []

    def compute(_progress):
        calls.append(1)
        time.sleep(0.4)
        if len(calls) == 1:
            raise StopException()  # Streamlit stops the first session's run (it left the page)
        return "computed by the second"

    first, second = _in_threads(*[lambda: _keys._remembered("t", ("stop",), compute)] * 2)
    assert isinstance(first, StopException)
    assert second == "computed by the second"
    assert len(calls) == 2
    assert _keys._remembered("t", ("stop",), compute) == "computed by the second"
    assert len(calls) == 2  # remembered now


def test_one_slot_runs_one_computation_at_a_time_and_nested_ones_do_not_wait():
    running, most = [0], [0]
    lock = threading.Lock()

    def compute(name):
        def work(_progress):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.3)
            # a computation that needs another remembered one (the landscape's estimate)
            inner = _keys._remembered("inner", (name,), lambda _p: f"inner {name}")
            with lock:
                running[0] -= 1
            return f"{name} + {inner}"

        return work

    results = _in_threads(*[lambda n=n: _keys._remembered("t", (n,), compute(n)) for n in "abc"])
    assert results == ["a + inner a", "b + inner b", "c + inner c"]
    assert most[0] == 1


def test_a_queued_computation_says_how_many_are_ahead():
    slots = _keys._Slots(1)
    notes: list[str] = []
    slots.acquire(notes.append)  # the running one
    assert notes == []
    other = threading.Thread(target=lambda: (slots.acquire(notes.append), slots.release()))
    other.start()
    time.sleep(0.3)
    assert notes and notes[0].startswith("Queued behind 1 computation")
    slots.release()
    other.join(5)
    assert not other.is_alive()
    assert slots.running == 0 and slots.queued == 0
