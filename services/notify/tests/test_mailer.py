"""Messages as the relay receives them: both parts, the Message-ID, no unsubscribe header, and
Vietnamese headers encoded so that a reader decodes them intact."""

from email import message_from_bytes, policy

from notify.mailer import Attachment, Email, Mailer


def build(**overrides):
    mailer = Mailer("smtp://127.0.0.1:1025", "Bộ phận một cửa <motcua@luongtai.example.vn>")
    email = Email(
        to_name="Nguyễn Thị Hoa",
        to_address="hoa@example.vn",
        subject="Xin lỗi và hẹn lại ngày trả kết quả hồ sơ 000.21.26.H06-231027-0001",
        text="Kính gửi Nguyễn Thị Hoa,",
        html="<p>Kính gửi Nguyễn Thị Hoa,</p>",
        message_id=mailer.message_id("6f1c2a52"),
        **overrides,
    )
    return message_from_bytes(mailer.build(email).as_bytes(), policy=policy.default)


def test_a_message_has_text_and_html_its_id_and_intact_vietnamese_headers():
    message = build()
    assert message["Subject"] == "Xin lỗi và hẹn lại ngày trả kết quả hồ sơ 000.21.26.H06-231027-0001"
    assert str(message["To"]) == "Nguyễn Thị Hoa <hoa@example.vn>"
    assert message["Message-ID"] == "<6f1c2a52@luongtai.example.vn>"
    assert "List-Unsubscribe" not in message
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Kính gửi Nguyễn Thị Hoa,"
    assert "<p>Kính gửi" in message.get_body(("html",)).get_content()


def test_attachments_go_beside_the_two_parts():
    message = build(attachments=[Attachment("giay-tiep-nhan.pdf", b"%PDF-1.4 x")])
    assert message.get_content_type() == "multipart/mixed"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "giay-tiep-nhan.pdf"
    assert attachment.get_content() == b"%PDF-1.4 x"
    assert message.get_body(("plain",)) is not None
