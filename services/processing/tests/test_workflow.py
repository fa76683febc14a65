"""The workflow table: every action from every state for every role, allowed or refused."""

from __future__ import annotations

import pytest

from eventkit.auth import Roles, Staff
from processing.workflow import (
    ACTIONS,
    Actions,
    NotAllowed,
    States,
    WrongRole,
    acting_role,
    allowed_actions,
    missing_fields,
    next_state,
    possible_actions,
)

UNIT = "09496"
R, S, L, A = Roles.RECEPTIONIST, Roles.SPECIALIST, Roles.LEADER, Roles.ADMIN
SAME = None

# The contract's table, written out again: action -> {from state: (state after, roles)}.
TABLE: dict[str, dict[str, tuple[str | None, set[str]]]] = {
    "accept": {"submitted": ("accepted", {R})},
    "request_supplement": {
        "submitted": ("supplement_requested", {R}),
        "accepted": ("supplement_requested", {R}),
        "in_progress": ("supplement_requested", {S}),
    },
    "refuse": {"submitted": ("refused", {R})},
    "assign": {"accepted": ("in_progress", {L, R}), "in_progress": ("in_progress", {L, R})},
    "transfer": {"accepted": (SAME, {R, S, L}), "in_progress": (SAME, {R, S, L})},
    "propose": {"in_progress": ("awaiting_approval", {S})},
    "send_back": {"awaiting_approval": ("in_progress", {L})},
    "approve": {"awaiting_approval": ("approved", {L})},
    "reject": {"awaiting_approval": ("rejected", {L}), "in_progress": ("rejected", {L})},
    "extend": {
        "accepted": (SAME, {L}),
        "in_progress": (SAME, {L}),
        "awaiting_approval": (SAME, {L}),
    },
    "issue_result": {"approved": ("result_ready", {L})},
    "return_result": {"result_ready": ("returned", {R})},
    "stop": {
        "accepted": ("stopped", {L}),
        "in_progress": ("stopped", {L}),
        "awaiting_approval": ("stopped", {L}),
        "supplement_requested": ("stopped", {L}),
    },
}
REQUIRED = {
    "accept": set(),
    "request_supplement": {"missing", "reason"},
    "refuse": {"reasons"},
    "assign": {"assignee"},
    "transfer": {"to_unit", "note"},
    "propose": {"note"},
    "send_back": {"reason"},
    "approve": set(),
    "reject": {"reason"},
    "extend": {"reason", "new_due_at"},
    "issue_result": {"upload_id"},
    "return_result": {"method"},
    "stop": {"reason"},
}


def officer(role: str, unit: str = UNIT, user_id: str = "u-1") -> Staff:
    return Staff(user_id=user_id, name="Cán bộ", roles=frozenset({role}), units=frozenset({unit}))


def dossier(state: str, **fields: object) -> dict[str, object]:
    return {"state": state, "unit": UNIT, "assignee": "u-1", "extended": False, **fields}


CASES = [
    (action, state, role) for action in TABLE for state in States.ALL for role in (R, S, L, A, Roles.EDITOR)
]


def test_the_table_names_every_action_and_state_of_the_contract():
    assert set(ACTIONS) == set(TABLE)
    assert set(States.OPEN) | set(States.FINAL) == set(States.ALL) and len(States.ALL) == 12
    for rows in TABLE.values():
        assert set(rows) <= set(States.OPEN), "nothing leaves a final state"


@pytest.mark.parametrize(("action", "state", "role"), CASES)
def test_each_action_from_each_state_for_each_role(action, state, role):
    staff = officer(role)
    record = dossier(state)
    row = TABLE[action].get(state)
    if row is None:
        with pytest.raises(NotAllowed) as refused:
            next_state(record, action, staff)
        assert refused.value.state == state
        assert refused.value.allowed == allowed_actions(record, staff)
        assert action not in refused.value.allowed
        return
    after, roles = row
    assert next_state(record, action, staff) == (after or state)
    if role in roles:
        assert acting_role(record, action, staff) == role
        assert action in allowed_actions(record, staff)
    else:
        with pytest.raises(WrongRole):
            acting_role(record, action, staff)
        assert action not in allowed_actions(record, staff)


def test_nobody_acts_on_a_dossier_of_a_unit_they_do_not_serve():
    for action, rows in TABLE.items():
        for state, (_, roles) in rows.items():
            for role in roles:
                assert action not in allowed_actions(dossier(state), officer(role, unit="09499"))
                assert action in allowed_actions(dossier(state), officer(role))


def test_only_the_assignee_proposes():
    record = dossier("in_progress", assignee="u-2")
    with pytest.raises(WrongRole):
        acting_role(record, Actions.PROPOSE, officer(S, user_id="u-1"))
    assert Actions.PROPOSE not in allowed_actions(record, officer(S, user_id="u-1"))
    assert acting_role(record, Actions.PROPOSE, officer(S, user_id="u-2")) == S


def test_a_dossier_is_extended_at_most_once():
    record = dossier("in_progress", extended=True)
    assert Actions.EXTEND not in possible_actions(record)
    with pytest.raises(NotAllowed) as refused:
        next_state(record, Actions.EXTEND, officer(L))
    assert refused.value.state == "in_progress"
    assert refused.value.allowed == ["assign", "transfer", "reject", "stop"]


def test_the_refusal_without_an_officer_names_what_anyone_may_do():
    with pytest.raises(NotAllowed) as refused:
        next_state(dossier("approved"), Actions.ACCEPT)
    assert refused.value.allowed == ["issue_result"]
    assert "approved" in str(refused.value)


def test_an_officer_with_two_roles_acts_in_the_one_the_step_wants():
    both = Staff("u-1", "", frozenset({R, L}), frozenset({UNIT}))
    assert acting_role(dossier("accepted"), Actions.STOP, both) == L
    assert acting_role(dossier("submitted"), Actions.ACCEPT, both) == R
    assert allowed_actions(dossier("accepted"), both) == [
        "request_supplement",
        "assign",
        "transfer",
        "extend",
        "stop",
    ]


@pytest.mark.parametrize("action", list(TABLE))
def test_each_action_requires_exactly_its_fields(action):
    assert set(missing_fields(action, {})) == REQUIRED[action]
    full = dict.fromkeys(REQUIRED[action], "x")
    assert missing_fields(action, full) == {}
    for name in REQUIRED[action]:
        for empty in (None, "", "  ", []):
            assert name in missing_fields(action, {**full, name: empty}), (name, empty)


def test_an_unknown_action_is_not_in_the_table():
    with pytest.raises(KeyError):
        next_state(dossier("submitted"), "sign")
