"""``GET /v1/incidents/{id}/state``: the engine's own record of an incident, as this worker holds it.

What the engine decides from — status, severity and its reasons, roles, SLA breaches
emitted, commands remembered, ``seq`` — straight from the state store, not from
ClickHouse. Members beyond the first 100 are counted, not listed. 404 when no partition of
this worker holds the incident (another worker may own it). A process without the
``engine`` role says which partition's engine to ask.
"""

from itertools import islice

import faust
from faust.web import Request, Response, View

from models.correlation import token_of_incident
from models.serde import to_plain
from streams.routing import partition_of
from streams.state_store import StateStore
from streams.web.auth import Access

MAX_MEMBERS = 100


def incident_state(store: StateStore, incident_id: str) -> dict | None:
    state = store.load(token_of_incident(incident_id))
    incident = state.incidents.get(incident_id)
    if incident is None:
        return None
    plain = to_plain(incident)
    plain["members"] = {fp: to_plain(m) for fp, m in islice(incident.members.items(), MAX_MEMBERS)}
    plain["signal_count"] = len(incident.members)
    return plain


def register(app: faust.App, store: StateStore | None, access: Access, partitions: int) -> None:
    @app.page("/v1/incidents/{incident_id}/state")
    class IncidentState(View):
        async def get(self, request: Request, incident_id: str) -> Response:
            if refused := access.refusal(self, request, "read"):
                return refused
            if store is None:
                partition = partition_of(token_of_incident(incident_id), partitions)
                where = f"the engine process that owns partition {partition} holds it"
                return self.json({"error": f"no engine runs here: {where}"}, status=404)
            found = incident_state(store, incident_id)
            if found is None:
                return self.json({"error": f"no incident {incident_id} here"}, status=404)
            return self.json(found)
