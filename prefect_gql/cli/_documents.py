"""The GraphQL documents the CLI sends itself, for what the client has no method for.

Each is a named operation (its name shows in the server's log) and validates against
the bundled schema (tests/test_cli_catalog.py checks them all).
"""

from __future__ import annotations

__all__ = ["AGENTS", "DELETE_FLOW_RUN", "DOCUMENTS", "FLOWS", "FLOW_RUN", "PROJECTS"]

PROJECTS = """
query CliProjects($where: project_bool_exp) {
  project(where: $where, order_by: {name: asc}) {
    id
    name
    description
    created
    flows(where: {archived: {_eq: false}}) { id name }
  }
}
"""
"""Projects, with the names of their unarchived flows."""

FLOWS = """
query CliFlows($where: flow_bool_exp) {
  flow(where: $where, order_by: [{name: asc}, {version: desc}, {created: desc}]) {
    id
    name
    version
    archived
    created
    project { id name }
  }
}
"""
"""Flows, by name and newest version first."""

AGENTS = """
query CliAgents {
  agent(order_by: {created: asc}) {
    id
    name
    type
    labels
    core_version
    created
    last_queried
  }
}
"""

FLOW_RUN = """
query CliFlowRun($id: uuid!) {
  flow_run_by_pk(id: $id) { id name labels state }
}
"""
"""Whether a run exists (and its labels and state name), before acting on it."""

DELETE_FLOW_RUN = """
mutation CliDeleteFlowRun($id: UUID!) {
  delete_flow_run(input: {flow_run_id: $id}) { success error }
}
"""

DOCUMENTS: dict[str, str] = {
    "CliProjects": PROJECTS,
    "CliFlows": FLOWS,
    "CliAgents": AGENTS,
    "CliFlowRun": FLOW_RUN,
    "CliDeleteFlowRun": DELETE_FLOW_RUN,
}
