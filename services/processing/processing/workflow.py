"""The dossier workflow: states, actions, who may take which action from which state (pure).

Decree 61/2018 and Circular 01/2018 as the processing contract fixes them. Nothing here reads a
clock or a store: the use cases in `service/dossiers.py` ask this module what is allowed, then
write the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eventkit.auth import Roles, Staff


class States:
    SUBMITTED = "submitted"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    RESULT_READY = "result_ready"
    RETURNED = "returned"
    REFUSED = "refused"
    REJECTED = "rejected"
    STOPPED = "stopped"
    WITHDRAWN = "withdrawn"

    OPEN = (SUBMITTED, SUPPLEMENT_REQUESTED, ACCEPTED, IN_PROGRESS, AWAITING_APPROVAL, APPROVED, RESULT_READY)
    FINAL = (RETURNED, REFUSED, REJECTED, STOPPED, WITHDRAWN)
    ALL = OPEN + FINAL


class Actions:
    ACCEPT = "accept"
    REQUEST_SUPPLEMENT = "request_supplement"
    REFUSE = "refuse"
    ASSIGN = "assign"
    TRANSFER = "transfer"
    PROPOSE = "propose"
    SEND_BACK = "send_back"
    APPROVE = "approve"
    REJECT = "reject"
    EXTEND = "extend"
    ISSUE_RESULT = "issue_result"
    RETURN_RESULT = "return_result"
    STOP = "stop"


class NotAllowed(Exception):
    """The action cannot be taken from the dossier's state (or not again); names what can."""

    def __init__(self, action: str, state: str, allowed: list[str], message: str | None = None) -> None:
        super().__init__(message or f"Không thể thực hiện thao tác {action} khi hồ sơ ở trạng thái {state}.")
        self.action = action
        self.state = state
        self.allowed = allowed


class WrongRole(Exception):
    """The caller's roles do not allow the action (or the caller is not the one it belongs to)."""


@dataclass(frozen=True)
class Rule:
    """One row of the contract's table.

    `roles` maps each state the action starts from to the roles that may take it there; `to` is
    the state after (None: the state does not change); `required` the body fields it needs.
    """

    action: str
    roles: Mapping[str, frozenset[str]]
    to: str | None
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # Only the dossier's assignee (propose); at most once per dossier (extend).
    assignee_only: bool = False
    once_flag: str | None = None
    from_states: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "from_states", tuple(self.roles))


def _same(states: tuple[str, ...], *roles: str) -> dict[str, frozenset[str]]:
    return {state: frozenset(roles) for state in states}


R, S, L = Roles.RECEPTIONIST, Roles.SPECIALIST, Roles.LEADER
_ST = States

RULES: dict[str, Rule] = {
    rule.action: rule
    for rule in (
        Rule(Actions.ACCEPT, _same((_ST.SUBMITTED,), R), _ST.ACCEPTED, optional=("note",)),
        Rule(
            Actions.REQUEST_SUPPLEMENT,
            {_ST.SUBMITTED: frozenset({R}), _ST.ACCEPTED: frozenset({R}), _ST.IN_PROGRESS: frozenset({S})},
            _ST.SUPPLEMENT_REQUESTED,
            required=("missing", "reason"),
        ),
        Rule(Actions.REFUSE, _same((_ST.SUBMITTED,), R), _ST.REFUSED, required=("reasons",)),
        Rule(
            Actions.ASSIGN,
            _same((_ST.ACCEPTED, _ST.IN_PROGRESS), L, R),
            _ST.IN_PROGRESS,
            required=("assignee",),
            optional=("note",),
        ),
        Rule(
            Actions.TRANSFER,
            _same((_ST.ACCEPTED, _ST.IN_PROGRESS), R, S, L),
            None,
            required=("to_unit", "note"),
        ),
        Rule(
            Actions.PROPOSE,
            _same((_ST.IN_PROGRESS,), S),
            _ST.AWAITING_APPROVAL,
            required=("note",),
            optional=("draft_upload_id",),
            assignee_only=True,
        ),
        Rule(Actions.SEND_BACK, _same((_ST.AWAITING_APPROVAL,), L), _ST.IN_PROGRESS, required=("reason",)),
        Rule(Actions.APPROVE, _same((_ST.AWAITING_APPROVAL,), L), _ST.APPROVED, optional=("note",)),
        Rule(
            Actions.REJECT,
            _same((_ST.AWAITING_APPROVAL, _ST.IN_PROGRESS), L),
            _ST.REJECTED,
            required=("reason",),
        ),
        Rule(
            Actions.EXTEND,
            _same((_ST.ACCEPTED, _ST.IN_PROGRESS, _ST.AWAITING_APPROVAL), L),
            None,
            required=("reason", "new_due_at"),
            once_flag="extended",
        ),
        Rule(
            Actions.ISSUE_RESULT,
            _same((_ST.APPROVED,), L),
            _ST.RESULT_READY,
            required=("upload_id",),
            optional=("note",),
        ),
        Rule(Actions.RETURN_RESULT, _same((_ST.RESULT_READY,), R), _ST.RETURNED, required=("method",)),
        Rule(
            Actions.STOP,
            _same((_ST.ACCEPTED, _ST.IN_PROGRESS, _ST.AWAITING_APPROVAL, _ST.SUPPLEMENT_REQUESTED), L),
            _ST.STOPPED,
            required=("reason",),
        ),
    )
}

ACTIONS: tuple[str, ...] = tuple(RULES)
# Every body field any action reads.
BODY_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(name for rule in RULES.values() for name in (*rule.required, *rule.optional))
)
RESULT_METHODS = ("counter", "post", "online")
MISSING_FIELD = "Thiếu trường bắt buộc cho thao tác này."


def rule_of(action: str) -> Rule:
    """The rule of `action`; KeyError for an action the contract does not know."""
    return RULES[action]


def _possible(rule: Rule, dossier: Mapping[str, Any]) -> bool:
    """The action can be taken from the dossier's state (by someone)."""
    if dossier.get("state") not in rule.roles:
        return False
    return not (rule.once_flag and dossier.get(rule.once_flag))


def _permitted(rule: Rule, dossier: Mapping[str, Any], staff: Staff) -> bool:
    """The officer may take a possible action: their role there, their unit, their dossier."""
    if not staff.serves(str(dossier.get("unit"))):
        return False
    if not staff.roles & rule.roles[dossier["state"]]:
        return False
    return not (rule.assignee_only and dossier.get("assignee") != staff.user_id)


def possible_actions(dossier: Mapping[str, Any]) -> list[str]:
    """Actions someone may take from the dossier's state, in the contract's order."""
    return [action for action, rule in RULES.items() if _possible(rule, dossier)]


def allowed_actions(dossier: Mapping[str, Any], staff: Staff) -> list[str]:
    """Actions this officer may take on the dossier now, in the contract's order."""
    return [
        action
        for action, rule in RULES.items()
        if _possible(rule, dossier) and _permitted(rule, dossier, staff)
    ]


def next_state(dossier: Mapping[str, Any], action: str, staff: Staff | None = None) -> str:
    """The state after `action`; NotAllowed (naming the state and what is allowed) if it cannot be
    taken from the dossier's state. With `staff`, the allowed actions are that officer's."""
    rule = rule_of(action)
    state = str(dossier.get("state"))
    if not _possible(rule, dossier):
        allowed = allowed_actions(dossier, staff) if staff is not None else possible_actions(dossier)
        raise NotAllowed(action, state, allowed)
    return rule.to or state


def acting_role(dossier: Mapping[str, Any], action: str, staff: Staff) -> str:
    """The role the officer takes a possible action in; WrongRole if none of theirs may."""
    rule = rule_of(action)
    roles = sorted(staff.roles & rule.roles[dossier["state"]])
    if not roles:
        raise WrongRole("Vai trò của tài khoản không được thực hiện thao tác này ở bước hiện tại.")
    if rule.assignee_only and dossier.get("assignee") != staff.user_id:
        raise WrongRole("Chỉ chuyên viên được phân công xử lý hồ sơ mới được thực hiện thao tác này.")
    return roles[0]


def _given(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str | list | tuple | dict):
        return bool(value.strip() if isinstance(value, str) else value)
    return True


def missing_fields(action: str, body: Mapping[str, Any]) -> dict[str, list[str]]:
    """The required body fields of `action` that are absent or empty, each with the reason."""
    return {name: [MISSING_FIELD] for name in rule_of(action).required if not _given(body.get(name))}
