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


def test_the_result_email_carries_the_signed_file_only_when_delivered_online_and_sent():
    def result_intent(method: str, sent: bool | None):
        result = {"sha256": "a" * 64, **({} if sent is None else {"file_sent": sent})}
        data = {"result": result}
        dossier = {**DOSSIER, "delivery": {"method": method}}
        unit = {"name": "Ủy ban nhân dân thị trấn Thứa", "address": "thị trấn Thứa", "phone": None}
        [intent] = intents_for(event(ConsumedTypes.RESULT_ISSUED, **data), data, dossier, unit)
        return intent

    online = result_intent("online", True)
    assert online.attachments == ("result",)
    assert online.personalisation["result_sha256"] == "a" * 64 and online.personalisation["result_attached"]
    assert online.personalisation["counter_name"] == "Ủy ban nhân dân thị trấn Thứa"
    assert online.personalisation["counter_phone"] == ""
    # Too large (not sent), made before the field existed, or not delivered online: no file awaited.
    for method, sent in (("online", False), ("online", None), ("counter", True), ("post", True)):
        intent = result_intent(method, sent)
        assert intent.attachments == () and intent.personalisation["result_attached"] is False


def test_a_decision_not_to_resolve_or_to_stop_carries_its_notice():
    for event_type, notice in (
        (ConsumedTypes.DOSSIER_REJECTED, "rejection_notice"),
        (ConsumedTypes.DOSSIER_STOPPED, "stop_notice"),
    ):
        [intent] = intents_for(event(event_type, reason="Lý do"), {"reason": "Lý do"}, DOSSIER)
        assert intent.attachments == (notice,)
        assert intent.personalisation["reason"] == "Lý do"
        assert intent.personalisation["delivery_method"] == "post"
    [returned] = intents_for(
        event(ConsumedTypes.DOSSIER_RETURNED, method="post"), {"method": "post"}, DOSSIER
    )
    assert returned.attachments == (), "a returned result owes no letter"
