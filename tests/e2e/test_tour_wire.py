"""The Wire's reading of Streamlit's messages, on hand-made ForwardMsgs (no browser): whether a
script runs, and how long the server's runs for a click took."""

from __future__ import annotations

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.e2e import tour


def _new_session() -> bytes:
    message = ForwardMsg()
    message.new_session.name = "app"
    return message.SerializeToString()


def _status(running: bool) -> bytes:
    message = ForwardMsg()
    message.session_status_changed.script_is_running = running
    return message.SerializeToString()


def _finished(status=ForwardMsg.FINISHED_SUCCESSFULLY) -> bytes:
    message = ForwardMsg()
    message.script_finished = status
    return message.SerializeToString()


@pytest.fixture
def clock(monkeypatch):
    """tour's time.time, set by hand: ``clock.now = ...``."""

    class Clock:
        now = 0.0

    monkeypatch.setattr(tour.time, "time", lambda: Clock.now)
    return Clock


def _receive(wire: tour.Wire, clock, moment: float, payload: bytes) -> None:
    clock.now = moment
    wire.on_frame(payload)


def test_script_seconds_spans_the_runs_after_the_click(clock):
    wire = tour.Wire()
    # An earlier view's run (10 -> 14), then a click at 20 whose run stops for a rerun (21 -> 22)
    # and whose rerun finishes (22.5 -> 25.5); then the status says idle at 27 (garbage collected).
    for moment, payload in [
        (10.0, _new_session()),
        (10.0, _status(True)),
        (14.0, _finished()),
        (21.0, _new_session()),
        (21.0, _status(True)),
        (22.0, _finished(ForwardMsg.FINISHED_EARLY_FOR_RERUN)),
        (22.5, _new_session()),
        (25.5, _finished()),
        (27.0, _status(False)),
    ]:
        _receive(wire, clock, moment, payload)
        if moment == 22.0:
            assert wire.running  # a run stopped for a rerun: the script still runs
        if moment == 25.5:
            assert not wire.running
    spans = wire.run_spans(20.0)
    assert [pytest.approx(span) for span in spans] == [(1.0, 2.0), (2.5, 5.5)]
    assert wire.script_seconds(20.0) == pytest.approx(25.5 - 21.0)
    assert wire.script_seconds(5.0) == pytest.approx(25.5 - 10.0)
    assert wire.script_seconds(26.0) is None  # no run started after the idle status


def test_script_seconds_waits_for_a_finished_run(clock):
    wire = tour.Wire()
    _receive(wire, clock, 3.0, _new_session())
    _receive(wire, clock, 3.0, _status(True))
    assert wire.running
    assert wire.script_seconds(1.0) is None  # started, not yet finished
    assert wire.run_spans(1.0) == [(2.0, None)]
    _receive(wire, clock, 4.25, _finished())
    assert wire.script_seconds(1.0) == pytest.approx(1.25)
