import pytest

from processing.importer import _reason, read_entries


def test_entries_are_read_with_the_line_they_start_on():
    text = '[\n  {"code": "a"},\n\n  {"code": "b",\n   "x": [1, 2]}, 3\n]\n'
    entries = read_entries(text)
    expected = [(2, {"code": "a"}), (4, {"code": "b", "x": [1, 2]}), (5, 3)]
    assert [(e.line, e.data) for e in entries] == expected


@pytest.mark.parametrize("text", ['{"code": "a"}', '[{"code": "a"}', '[{"code": }]'])
def test_a_file_that_is_not_a_json_array_is_refused(text):
    with pytest.raises(ValueError):
        read_entries(text)


def test_nested_validation_messages_become_one_line_per_field():
    messages = {"name": ["Thiếu trường bắt buộc."], "documents": {0: {"code": ["Sai mã."]}}}
    assert _reason(messages) == ["name: Thiếu trường bắt buộc.", "documents.0.code: Sai mã."]
