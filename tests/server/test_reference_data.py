"""``reference_data`` answers what Prefect Server computes from Prefect 1.4's states."""

from __future__ import annotations

import warnings

import pytest

from prefect_gql.server import LocalServer

from .conftest import GraphQL

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"prefect\.")
    from prefect.engine import state

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::marshmallow.warnings.RemovedInMarshmallow4Warning"),
]


def test_reference_data_is_prefects_state_hierarchy_and_colors() -> None:
    hierarchy: dict[str, list[str]] = {}
    info = {}
    for obj in vars(state).values():
        if isinstance(obj, type) and issubclass(obj, state.State):
            for parent in obj.mro():
                if issubclass(parent, state.State):
                    hierarchy.setdefault(parent.__name__, []).append(obj.__name__)
            info[obj.__name__] = {"color": obj.color}
    with LocalServer() as server:
        gql = GraphQL(server.url)
        data = gql.data("{ reference_data { state_hierarchy state_info } }")["reference_data"]
        gql.close()
    assert data == {"state_hierarchy": hierarchy, "state_info": info}
