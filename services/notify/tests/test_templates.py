"""Email templates: every template renders in Vietnamese (NFC), the HTML escapes what it is given,
and a template that uses an unknown variable fails with a reason instead of an empty gap."""

import unicodedata
from pathlib import Path

import pytest

from notify.service.triggers import Templates
from notify.templates import TEMPLATES_DIR, Renderer, RenderError, datetime_vn

ALL = [v for k, v in vars(Templates).items() if k.isupper()]
CONTEXT = {
    "code": "000.21.26.H06-231027-0001",
    "procedure_code": "1.004884",
    "procedure_name": "Đăng ký lại việc khai sinh",
    "applicant_name": "Nguyễn Thị <Hoa>",
    "sent_because": "Bạn nhận được thư này vì hồ sơ của bạn.",
    "staff_name": "Phạm Thị Lãnh Đạo",
    "as": "leader",
    "unit": "09496",
    "submitted_at": "2023-10-27T02:32:00Z",
    "received_at": "2023-10-27T09:32:00+07:00",
    "due_at": "2023-11-03T09:32:00+07:00",
    "missing": [{"document": "Tờ khai", "reason": "Thiếu chữ ký"}],
    "reasons": ["Không thuộc thẩm quyền"],
    "reason": "Cần xác minh",
    "old_due_at": "2023-11-03T09:32:00+07:00",
    "new_due_at": "2023-11-10T09:32:00+07:00",
    "delivery_method": "post",
    "delivery_address": "Thị trấn Thứa",
    "method": "counter",
    "resolved_at": "2023-11-02T15:00:00+07:00",
    "result_sha256": "0" * 64,
    "result_attached": False,
    "counter_name": "Ủy ban nhân dân thị trấn Thứa",
    "counter_address": "Thị trấn Thứa, Lương Tài, Bắc Ninh",
    "counter_phone": "0222 3867 123",
}


@pytest.mark.parametrize("template", ALL)
def test_every_template_renders_vietnamese_text_and_html_with_the_code(template):
    renderer = Renderer("https://dichvucong.example.vn/")
    kind = "staff" if template in (Templates.DUE_SOON, Templates.OVERDUE) else "citizen"
    rendered = renderer.render(template, renderer.latest_version(template), CONTEXT, kind)
    assert CONTEXT["code"] in rendered.subject and "\n" not in rendered.subject
    for part in (rendered.subject, rendered.text, rendered.html):
        assert part == unicodedata.normalize("NFC", part)
    assert rendered.text.startswith("Kính gửi ")
    assert CONTEXT["sent_because"] in rendered.text and CONTEXT["sent_because"] in rendered.html
    lookup = "https://dichvucong.example.vn/tra-cuu-ho-so?ma=000.21.26.H06-231027-0001"
    assert (lookup in rendered.text) == (kind == "citizen")
    if kind == "citizen":
        # Escaped in the HTML part, as written in the plain-text part.
        assert "Nguyễn Thị &lt;Hoa&gt;" in rendered.html and "Nguyễn Thị <Hoa>" in rendered.text


def test_times_are_shown_in_vietnams_time():
    assert datetime_vn("2023-10-27T02:32:00Z") == "09:32 ngày 27/10/2023"
    assert datetime_vn("2023-11-03T09:32:00+07:00") == "09:32 ngày 03/11/2023"
    assert datetime_vn(None) == ""


def test_an_undefined_variable_or_a_missing_file_is_a_render_error_naming_it(tmp_path: Path):
    version = tmp_path / "email" / "accepted" / "1"
    version.mkdir(parents=True)
    (version / "subject.txt").write_text("Hồ sơ {{ code }} {{ ma_khong_co }}", encoding="utf-8")
    renderer = Renderer("https://x.example.vn", tmp_path)
    with pytest.raises(RenderError, match="'ma_khong_co' is undefined"):
        renderer.render("accepted", "1", {"code": "c"}, "citizen")
    (version / "subject.txt").write_text("Hồ sơ {{ code }}", encoding="utf-8")
    with pytest.raises(RenderError, match="body.txt"):
        renderer.render("accepted", "1", {"code": "c"}, "citizen")
    with pytest.raises(RenderError, match="no version"):
        renderer.latest_version("refused")


def test_the_newest_version_is_the_highest_number():
    assert Renderer("https://x.example.vn").latest_version(Templates.ACCEPTED) == "1"
    assert (TEMPLATES_DIR / "email" / "accepted" / "1" / "body.html").is_file()


@pytest.mark.parametrize(
    ("method", "attached", "says"),
    [
        ("online", True, "được đính kèm thư này"),
        ("online", False, "không đính kèm theo thư này. Bạn tải về trên Cổng dịch vụ công"),
        ("post", False, "gửi qua dịch vụ bưu chính công ích đến địa chỉ Thị trấn Thứa."),
        (
            "counter",
            False,
            "trực tiếp tại Bộ phận Tiếp nhận và Trả kết quả của Ủy ban nhân dân thị trấn Thứa, Thị trấn Thứa",
        ),
    ],
)
def test_the_result_email_says_where_and_how_to_receive_the_result(method, attached, says):
    renderer = Renderer("https://x.example.vn")
    context = {**CONTEXT, "delivery_method": method, "result_attached": attached}
    rendered = renderer.render(Templates.RESULT_ISSUED, "2", context, "citizen")
    assert says in rendered.text and says.split(".")[0] in rendered.html
    assert ("Điện thoại liên hệ: 0222 3867 123." in rendered.text) is True
    if method != "online":
        assert "đính kèm" not in rendered.text
