"""Where a page's heavy work runs: "this machine" or the Ray cluster the server was started with
(``neurogenesis app --ray ADDRESS``). Without a cluster nothing is shown and everything runs
here, as always."""

from __future__ import annotations

import streamlit as st

from neurogenesis.compute import LOCAL, ComputeTarget, configured_cluster

THIS_MACHINE = "this machine"


def compute_target(key: str, *, help: str | None = None) -> ComputeTarget:  # noqa: A002
    """A "Compute on" choice (only when the server names a cluster); the chosen target."""
    cluster = configured_cluster()
    if cluster is None:
        return LOCAL
    where = cluster.describe()
    choice = st.radio(
        "Compute on",
        [THIS_MACHINE, where],
        index=1,
        horizontal=True,
        key=key,
        help=help
        or "The Ray cluster runs the work on its workers (the model travels as its file's "
        "bytes); the result is the same as on this machine to float tolerance.",
    )
    return cluster if choice == where else LOCAL
