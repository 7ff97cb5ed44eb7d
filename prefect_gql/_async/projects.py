"""Projects and flow registration (queries/projects.graphql, queries/flow_registration.graphql)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import prefect_gql._generated as generated

from .._constants import REGISTRATION_BATCH_SIZE
from .._exceptions import ClientError, InvalidInputError, NotFoundError, OperationFailedError
from .._model.prefect_compat import PrefectSerializable, flow_from_prefect, is_prefect_flow
from .._model.validation import build_input
from .tenants import TenantMethods

if TYPE_CHECKING:
    from .._model.flow import FlowSpec

__all__ = ["ProjectMethods"]

logger = logging.getLogger("prefect_gql")


def _serialized_flow(flow: object, build: bool) -> dict[str, Any]:
    from .._model.flow import FlowSpec  # noqa: PLC0415 - flow specs load only when registering

    if is_prefect_flow(flow):
        return flow_from_prefect(flow, build)
    if isinstance(flow, FlowSpec):
        return flow.serialize()
    if isinstance(flow, Mapping):
        return dict(flow)
    raise InvalidInputError(
        "flow must be a Prefect Flow, a FlowSpec or a serialized flow dict, "
        f"got {type(flow).__name__}"
    )


class ProjectMethods(TenantMethods):
    async def create_project(
        self, project_name: str, project_description: str | None = None
    ) -> str:
        """Create a project (or find the existing one of that name); returns its id."""
        tenant_id = await self.get_tenant_id()
        try:
            answer = await self.operations.create_project(
                input=build_input(
                    generated.create_project_input,
                    "project",
                    tenant_id=tenant_id,
                    name=project_name,
                    description=project_description,
                )
            )
        except ClientError as err:
            if not any("Uniqueness violation" in error.message for error in err.errors):
                raise
            return await self._project_id(project_name)
        if answer.create_project is None or answer.create_project.id is None:
            raise OperationFailedError("create_project returned no id")
        return answer.create_project.id

    async def _project_id(self, project_name: str) -> str:
        found = await self.operations.find_project_by_name(name=project_name)
        if not found.project:
            raise NotFoundError(
                f"project {project_name!r} not found; create it with client.create_project"
            )
        return found.project[0].id

    async def delete_project(self, project_name: str) -> bool:
        """Delete the project of that name; NotFoundError if there is none."""
        project_id = await self._project_id(project_name)
        answer = await self.operations.delete_project(
            input=generated.delete_project_input(project_id=project_id)
        )
        return bool(answer.delete_project and answer.delete_project.success)

    async def register(
        self,
        flow: FlowSpec | Mapping[str, Any] | PrefectSerializable,
        project_name: str | None = None,
        build: bool = True,
        set_schedule_active: bool = True,
        version_group_id: str | None = None,
        compressed: bool = True,
        no_url: bool = False,
        idempotency_key: str | None = None,
    ) -> str:
        """Register a flow (a Prefect ``Flow``, a ``FlowSpec`` or a serialized flow dict);
        returns the flow id.

        Sent as 1.4.1 sends it: the flow, its tasks and edges in batches, its schedule. An
        idempotency key is always sent (one is made when none is given), so a create that
        is retried after its answer was lost cannot make a second flow version. ``build``
        builds a Prefect ``Flow``'s storage first, as Prefect did.
        """
        if not project_name:
            raise InvalidInputError(
                "project_name is required to register a flow (as in Prefect 1.4.1; today's "
                "Prefect Server refuses a flow without a project)"
            )
        serialized = _serialized_flow(flow, build)
        if not isinstance(serialized.get("name"), str):
            raise InvalidInputError("the serialized flow has no 'name'")
        project_id = await self._project_id(project_name)
        from .._model.flow import batched, compress_flow, split_for_registration  # noqa: PLC0415

        flow_only, tasks, edges = split_for_registration(serialized)
        common: dict[str, Any] = {
            "project_id": project_id,
            "set_schedule_active": False,
            "version_group_id": version_group_id,
            "idempotency_key": idempotency_key or uuid.uuid4().hex,
            "description": serialized.get("description"),
        }
        flow_id: str | None
        if compressed:
            created = await self.operations.create_flow_from_compressed_string(
                input=build_input(
                    generated.create_flow_from_compressed_string_input,
                    "flow",
                    serialized_flow=compress_flow(flow_only),
                    **common,
                )
            )
            flow_id = (
                created.create_flow_from_compressed_string.id
                if created.create_flow_from_compressed_string
                else None
            )
        else:
            created_plain = await self.operations.create_flow(
                input=build_input(
                    generated.create_flow_input, "flow", serialized_flow=flow_only, **common
                )
            )
            flow_id = created_plain.create_flow.id if created_plain.create_flow else None
        if flow_id is None:
            raise OperationFailedError("flow registration returned no id")
        for batch in batched(tasks, REGISTRATION_BATCH_SIZE):
            await self.operations.register_tasks(
                input=build_input(
                    generated.register_tasks_input,
                    "tasks",
                    flow_id=flow_id,
                    serialized_tasks=batch,
                )
            )
        for batch in batched(edges, REGISTRATION_BATCH_SIZE):
            await self.operations.register_edges(
                input=build_input(
                    generated.register_edges_input,
                    "edges",
                    flow_id=flow_id,
                    serialized_edges=batch,
                )
            )
        if set_schedule_active:
            await self.operations.set_schedule_active(
                input=generated.set_schedule_active_input(flow_id=flow_id)
            )
        if not no_url:
            group = await self.operations.get_flow_group_id(id=flow_id)
            if group.flow_by_pk is not None:
                url = await self.get_cloud_url("flow", group.flow_by_pk.flow_group_id)
                logger.info("Flow URL: %s", url)
        return flow_id
