"""The replay tool's pure parts: times, the registry check and the printed count."""

import pytest

from eventkit.replay import ReplayError, ReplayResult, check_group_reads, main, parse_time


def test_times_are_iso_8601_and_utc_unless_they_say_otherwise():
    assert parse_time("2026-01-01T00:00:00Z") == 1_767_225_600_000
    assert parse_time("2026-01-01T00:00:00") == 1_767_225_600_000
    assert parse_time("2026-01-01T07:00:00+07:00") == 1_767_225_600_000
    with pytest.raises(ReplayError):
        parse_time("yesterday")


def test_a_registered_topic_is_replayed_only_to_a_group_that_reads_it():
    check_group_reads("intake.dossiers.v1", "processing.intake-dossiers")
    check_group_reads("test.unregistered.v1", "anything")
    with pytest.raises(ReplayError, match="does not read"):
        check_group_reads("intake.dossiers.v1", "intake.catalogue")


def test_the_cli_refuses_a_group_that_does_not_read_the_topic_before_connecting(capsys):
    code = main(["--bootstrap", "127.0.0.1:1", "group", "intake.dossiers.v1", "x.y", "--from-offset", "0"])
    assert code == 2 and "does not read" in capsys.readouterr().err


def test_the_report_counts_per_partition_and_target_and_says_when_nothing_was_written():
    result = ReplayResult(source="a.things.v1", dry_run=True)
    for partition in (0, 2, 2):
        result.add(partition, "a.things.v1.b.things.retry")
    result.left_out = 1
    assert result.report().splitlines() == [
        "a.things.v1: would copy 3 records",
        "  partition 0: 1",
        "  partition 2: 2",
        "  -> a.things.v1.b.things.retry: 3",
        "  left out: 1",
        "  dry run: nothing written",
    ]
