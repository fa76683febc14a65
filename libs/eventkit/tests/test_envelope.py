import json

import pytest

from eventkit.envelope import InvalidEvent, caused_by, decode, encode, new_event

TYPE = "vn.motcua.intake.dossier.submitted.v1"


def make(**overrides):
    return new_event(
        type=TYPE,
        source="/services/intake",
        subject="000.00.06.H06-190102-0001",
        data={},
        **{"sequence": 1, **overrides},
    )


def test_a_new_event_starts_its_own_flow_and_is_keyed_by_its_subject():
    event = make()
    assert event["correlationid"] == event["id"] == event["causationid"]
    assert event["partitionkey"] == event["subject"]
    assert event["specversion"] == "1.0" and event["time"].endswith("Z")


def test_an_event_caused_by_another_keeps_the_correlation_and_names_its_cause():
    cause = make()
    effect = caused_by(
        cause,
        type="vn.motcua.processing.dossier.accepted.v1",
        source="/services/processing",
        subject=cause["subject"],
        data={"by": "x"},
        sequence=1,
    )
    assert effect["correlationid"] == cause["correlationid"]
    assert effect["causationid"] == cause["id"] != effect["id"]


def test_encode_decode_round_trip_keeps_vietnamese_text_as_utf8():
    event = make()
    event["data"] = {"ten_thu_tuc": "Đăng ký khai sinh"}
    raw = encode(event)
    assert "Đăng ký khai sinh".encode() in raw
    assert decode(raw) == event


@pytest.mark.parametrize(
    "raw",
    [None, b"\xff\xfe", b"[1, 2]", b"{}", b'{"id": "x"}'],
)
def test_undecodable_or_incomplete_bytes_are_invalid(raw):
    with pytest.raises(InvalidEvent):
        decode(raw)


@pytest.mark.parametrize(
    "field,value",
    [
        ("specversion", "0.3"),
        ("type", "DossierSubmitted"),
        ("data", "text"),
        ("correlationid", ""),
        ("sequence", 0),
        ("sequence", "7"),
        ("sequence", None),
    ],
)
def test_envelope_rules_are_enforced(field, value):
    event = make()
    event[field] = value
    with pytest.raises(InvalidEvent):
        decode(json.dumps(event).encode())


def test_unknown_extension_attributes_are_kept():
    event = {**make(), "traceparent": "00-abc"}
    assert decode(encode(event))["traceparent"] == "00-abc"


def test_building_an_event_with_a_bad_type_fails_at_once():
    with pytest.raises(InvalidEvent):
        new_event(type="submitted", source="/x", subject="s", data={}, sequence=1)


def test_an_event_carries_its_place_in_its_aggregates_history():
    event = make(sequence=12)
    assert decode(encode(event))["sequence"] == 12
    without = {k: v for k, v in event.items() if k != "sequence"}
    with pytest.raises(InvalidEvent):
        decode(encode(without))
