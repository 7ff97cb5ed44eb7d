"""The body of every client method, written once as a plan (see ``_core``).

One module per concern, mirroring ``queries/``; each ends with the class that makes
its plans methods of both clients. ``ClientMethods`` gathers them.
"""

from .flow_runs import FlowRunMethods
from .projects import ProjectMethods
from .raw import RawMethods
from .records import RecordMethods
from .task_runs import TaskRunMethods
from .tenants import TenantMethods
from .views import ViewMethods

__all__ = ["ClientMethods"]


class ClientMethods(
    TenantMethods,
    ProjectMethods,
    FlowRunMethods,
    TaskRunMethods,
    RecordMethods,
    RawMethods,
    ViewMethods,
):
    """Every documented method of ``Client`` and ``AsyncClient``."""
