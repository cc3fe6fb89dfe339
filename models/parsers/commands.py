"""Commands on an incident: ``{"action", "incident_id", "actor", "at"?, …}``.

| action     | extra fields                                              |
|------------|-----------------------------------------------------------|
| ack        | —                                                         |
| assign     | ``role`` (incident_commander, technical_lead, communications, operations), ``assignee`` |
| severity   | ``severity``: P0-P3, or ``auto`` to hand back to the rules |
| note       | ``text``                                                  |
| resolve    | ``text``?                                                 |
| reopen     | ``text``?                                                 |
| close      | ``postmortem_url``?, ``text``?                            |
| notified   | ``text`` (the notification id), ``channel``, ``subject``: sent by the notify role |
"""

from models.command import Action, Command, Role
from models.errors import Reason, RejectedInput
from models.limits import Limits
from models.parsers.fields import choice, decode_json, guarded, require_object, text, timestamp
from models.parsers.result import Parsed
from models.policy import SEVERITIES


def parse_command(raw: bytes, limits: Limits, now: int) -> Parsed:
    return guarded(lambda: Parsed(inputs=[read_command(decode_json(raw, limits), limits, now)]))


def read_command(item: object, limits: Limits, now: int) -> Command:
    data = require_object(item, "command")
    action = choice(data, "action", Action)
    command = Command(
        action=action,
        incident_id=text(data, "incident_id", limits),
        actor=text(data, "actor", limits),
        at=timestamp(data, "at", required=False, default=now),
        role=text(data, "role", limits, required=False),
        assignee=text(data, "assignee", limits, required=False),
        severity=text(data, "severity", limits, required=False),
        text=text(data, "text", limits, required=False),
        postmortem_url=text(data, "postmortem_url", limits, required=False),
        channel=text(data, "channel", limits, required=False),
        subject=text(data, "subject", limits, required=False),
    )
    _check_arguments(command)
    return command


def _check_arguments(command: Command) -> None:
    if command.action is Action.ASSIGN:
        if command.role not in set(Role):
            raise RejectedInput(Reason.INVALID_VALUE, f"role {command.role!r}; one of {[str(r) for r in Role]}")
        if not command.assignee:
            raise RejectedInput(Reason.MISSING_FIELD, "assignee")
    if command.action is Action.SEVERITY and command.severity not in (*SEVERITIES, "auto"):
        raise RejectedInput(Reason.INVALID_VALUE, f"severity {command.severity!r}; P0-P3 or auto")
    if command.action is Action.NOTE and not command.text:
        raise RejectedInput(Reason.MISSING_FIELD, "text")
