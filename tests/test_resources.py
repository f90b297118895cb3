"""neurogenesis.resources: what a small server (Community Cloud) is, and the memory settings."""

from __future__ import annotations

from pathlib import Path

from neurogenesis import resources
from neurogenesis.analysis import attribution


def test_the_memory_limit_is_the_containers_or_the_machines():
    limit = resources.memory_limit()
    total = next(
        int(line.split()[1]) * 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    assert limit is not None and 0 < limit <= max(total, limit)
    cgroup = Path("/sys/fs/cgroup/memory.max")
    if cgroup.exists() and cgroup.read_text().strip().isdigit():
        assert limit == int(cgroup.read_text())
    else:
        assert limit == total


def test_small_server_follows_the_limit_unless_told(monkeypatch):
    monkeypatch.delenv("NEUROGENESIS_SMALL_SERVER", raising=False)
    limit = resources.memory_limit()
    assert resources.small_server() == (limit < resources.SMALL_SERVER_BYTES)
    monkeypatch.setattr(resources, "memory_limit", lambda: 1024**3)  # Community Cloud's ~1 GB
    assert resources.small_server()
    monkeypatch.setenv("NEUROGENESIS_SMALL_SERVER", "0")
    assert not resources.small_server()
    monkeypatch.setenv("NEUROGENESIS_SMALL_SERVER", "1")
    monkeypatch.setattr(resources, "memory_limit", lambda: 64 * 1024**3)
    assert resources.small_server()


def test_a_gradient_call_gets_a_smaller_budget_on_a_small_server(monkeypatch):
    monkeypatch.delenv(attribution.MEMORY_BUDGET_VARIABLE, raising=False)
    monkeypatch.setenv("NEUROGENESIS_SMALL_SERVER", "1")
    assert attribution._memory_budget() == attribution.SMALL_SERVER_MEMORY_BUDGET_MB * 2**20
    monkeypatch.setenv("NEUROGENESIS_SMALL_SERVER", "0")
    assert attribution._memory_budget() == attribution.DEFAULT_MEMORY_BUDGET_MB * 2**20
    monkeypatch.setenv(attribution.MEMORY_BUDGET_VARIABLE, "300")  # the user's word wins
    monkeypatch.setenv("NEUROGENESIS_SMALL_SERVER", "1")
    assert attribution._memory_budget() == 300 * 2**20


def test_the_malloc_setting_is_applied_once_and_respects_the_environment(monkeypatch):
    if resources._libc() is None:
        return
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert resources.tune_process() is False  # the person who started the server decided
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert resources.tune_process() is True
