"""Flow runs (queries/flow_runs.graphql)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import prefect_gql._generated as generated
from prefect_gql._generated.documents import GET_FLOW_RUN_INFO_GQL

from .._exceptions import InvalidInputError, NotFoundError, OperationFailedError, PrefectGQLError
from .._http.exchange import graphql_exchange
from .._model.prefect_compat import (
    PrefectSerializable,
    is_prefect_run_config,
    run_config_from_prefect,
)
from .._model.results import FlowRunInfo, validate_answer
from .._model.run_states import StateArgument, answered_state, state_and_version, state_update
from .._model.states import AnyState, State, state_from_answer
from .._model.validation import aware, build_input, ensure_json, valid_uuid
from .base import AsyncClientBase

__all__ = ["FlowRunMethods"]

logger = logging.getLogger("prefect_gql")


class FlowRunMethods(AsyncClientBase):
    async def create_flow_run(
        self,
        flow_id: str | None = None,
        context: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        scheduled_start_time: datetime | None = None,
        idempotency_key: str | None = None,
        run_name: str | None = None,
        version_group_id: str | None = None,
        labels: Sequence[str] | None = None,
        run_config: Mapping[str, Any] | PrefectSerializable | None = None,
    ) -> str:
        """Create a flow run; returns its id.

        Always sends an idempotency key (one is made if omitted), so a retried request
        cannot create a second run. ``run_config`` may be a Prefect ``RunConfig``; a naive
        ``scheduled_start_time`` is taken as UTC.
        """
        if is_prefect_run_config(run_config):
            run_config = run_config_from_prefect(run_config)
        if flow_id is None and version_group_id is None:
            raise InvalidInputError("pass flow_id or version_group_id")
        fields: dict[str, Any] = {"idempotency_key": idempotency_key or uuid.uuid4().hex}
        if flow_id is not None:
            fields["flow_id"] = valid_uuid(flow_id, "flow_id")
        else:
            fields["version_group_id"] = version_group_id
        if scheduled_start_time is not None:
            fields["scheduled_start_time"] = aware(scheduled_start_time, "scheduled_start_time")
        for name, value in (
            ("parameters", parameters),
            ("context", context),
            ("run_config", run_config),
        ):
            ensure_json(value, name)
            fields[name] = value
        fields.update(flow_run_name=run_name, labels=list(labels) if labels is not None else None)
        answer = await self.operations.create_flow_run(
            input=build_input(generated.create_flow_run_input, "flow run", **fields)
        )
        if answer.create_flow_run is None or answer.create_flow_run.id is None:
            raise OperationFailedError("create_flow_run returned no id")
        return answer.create_flow_run.id

    async def get_flow_run_info(self, flow_run_id: str) -> FlowRunInfo:
        """A flow run's version, state and (unmapped) task runs."""
        run_id = valid_uuid(flow_run_id, "flow_run_id")
        # The flow runner's most frequent call: the generated operation's document, its
        # answer validated once, straight into FlowRunInfo (whose aliases mirror the generated
        # model), not into the generated model and again into ours (a measured ~25 us a call).
        data = await self._transport.run(
            graphql_exchange(self._config, GET_FLOW_RUN_INFO_GQL, "GetFlowRunInfo", {"id": run_id})
        )
        run = data.get("flow_run_by_pk")
        if run is None:
            raise NotFoundError(f"flow run {run_id} not found")
        return validate_answer(FlowRunInfo, run, "GetFlowRunInfo")

    async def get_flow_run_state(self, flow_run_id: str) -> AnyState:
        """A flow run's current state."""
        run_id = valid_uuid(flow_run_id, "flow_run_id")
        answer = await self.operations.get_flow_run_state(id=run_id)
        if answer.flow_run_by_pk is None:
            raise NotFoundError(f"flow run {run_id} not found")
        return state_from_answer(answer.flow_run_by_pk.serialized_state)

    async def set_flow_run_state(
        self,
        flow_run_id: str,
        state: StateArgument = None,
        version: StateArgument = None,
    ) -> State:
        """Set a flow run's state; returns it, or ``Queued`` when the API queued the run.

        Takes 1.x's ``(flow_run_id, state, version=None)`` and 0.12's
        ``(flow_run_id, version, state)``. A stale ``version`` raises ``VersionLockError``.
        """
        checked, checked_version = state_and_version(state, version)
        update = state_update(
            self._config.core_version, "flow_run_id", flow_run_id, checked, checked_version
        )
        answer = await self.operations.set_flow_run_states(
            input=generated.set_flow_run_states_input(
                states=[build_input(generated.set_flow_run_state_input, "flow run state", **update)]
            )
        )
        payload = answer.set_flow_run_states
        return answered_state(checked, payload.states if payload else None)

    async def set_flow_run_name(self, flow_run_id: str, name: str) -> bool:
        """Rename a flow run."""
        answer = await self.operations.set_flow_run_name(
            input=generated.set_flow_run_name_input(
                flow_run_id=valid_uuid(flow_run_id, "flow_run_id"), name=name
            )
        )
        return bool(answer.set_flow_run_name and answer.set_flow_run_name.success)

    async def cancel_flow_run(self, flow_run_id: str) -> str | None:
        """Cancel a flow run; returns the state it is now in (e.g. ``"Cancelling"``)."""
        answer = await self.operations.cancel_flow_run(
            input=generated.cancel_flow_run_input(
                flow_run_id=valid_uuid(flow_run_id, "flow_run_id")
            )
        )
        return answer.cancel_flow_run.state if answer.cancel_flow_run else None

    async def delete_flow_run(self, flow_run_id: str) -> bool:
        """Delete a flow run, with its task runs, states and logs; whether the API did."""
        answer = await self.operations.delete_flow_run(
            input=generated.delete_flow_run_input(
                flow_run_id=valid_uuid(flow_run_id, "flow_run_id")
            )
        )
        return bool(answer.delete_flow_run and answer.delete_flow_run.success)

    async def update_flow_run_heartbeat(self, flow_run_id: str) -> None:
        """Heartbeat a flow run. Never raises: a missed heartbeat is logged, the run goes on."""
        try:
            run_id = valid_uuid(flow_run_id, "flow_run_id")
            await self.operations.update_flow_run_heartbeat(
                input=generated.update_flow_run_heartbeat_input(flow_run_id=run_id),
                headers={"X-PREFECT-HEARTBEAT-ID": run_id},
            )
        except PrefectGQLError as err:
            logger.warning("flow run heartbeat failed: %s", err)
