"""Which notifications each dossier event makes, to whom, and why."""

from eventkit.envelope import new_event
from notify.events import ConsumedTypes
from notify.service.notifications import notification_id
from notify.service.triggers import Templates, intents_for

CODE = "000.21.26.H06-231027-0001"
DOSSIER = {
    "applicant": {"full_name": "Nguyễn Thị Hoa", "email": "hoa@example.vn"},
    "delivery": {"method": "post"},
}


def event(event_type, **data):
    return new_event(
        type=event_type, source="/services/x", subject=CODE, data={"code": CODE, **data}, sequence=1
    )


def test_an_online_filing_is_acknowledged_and_a_counter_filing_is_not():
    [intent] = intents_for(
        event(ConsumedTypes.DOSSIER_SUBMITTED, channel="online"), {"channel": "online"}, DOSSIER
    )
    assert intent.template == Templates.RECEIVED
    assert intent.recipient == {"kind": "citizen", "name": "Nguyễn Thị Hoa", "email": "hoa@example.vn"}
    assert CODE in intent.reason
    assert intents_for(event(ConsumedTypes.DOSSIER_SUBMITTED), {"channel": "counter"}, DOSSIER) == []


def test_internal_steps_notify_nobody():
    for event_type in (
        ConsumedTypes.DOSSIER_ASSIGNED,
        ConsumedTypes.DOSSIER_TRANSFERRED,
        ConsumedTypes.DOSSIER_APPROVED,
    ):
        assert intents_for(event(event_type), {}, DOSSIER) == []


def test_a_deadline_warning_writes_to_each_recipient_in_their_role():
    recipients = [
        {"user_id": "s-1", "name": "A", "email": "a@x.vn", "as": "assignee"},
        {"user_id": "l-1", "name": "B", "email": "", "as": "leader"},
    ]
    data = {"recipients": recipients, "due_at": "2023-11-03T09:32:00+07:00", "unit": "264.TP"}
    intents = intents_for(event(ConsumedTypes.DOSSIER_OVERDUE, **data), data, {})
    assert [(i.template, i.recipient["user_id"], i.recipient["email"]) for i in intents] == [
        (Templates.OVERDUE, "s-1", "a@x.vn"),
        (Templates.OVERDUE, "l-1", None),
    ]
    assert "người được giao xử lý" in intents[0].reason and "lãnh đạo" in intents[1].reason
    assert intents[0].recipient_key == "s-1"


def test_a_notification_id_depends_on_the_event_the_recipient_and_the_template_only():
    one = notification_id("e-1", "citizen", "accepted")
    assert one == notification_id("e-1", "citizen", "accepted")
    assert (
        len(
            {
                one,
                notification_id("e-2", "citizen", "accepted"),
                notification_id("e-1", "s-1", "accepted"),
                notification_id("e-1", "citizen", "refused"),
            }
        )
        == 4
    )
