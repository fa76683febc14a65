"""The console's administration screens on the real store: every change made through a form is
stored, versioned and audited as through the API; bad input answers 422 with each field's message,
a stale version 409 with the fresh record; only administrators, each of their own units, get in."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from eventkit.auth import Staff
from processing import importer, store
from processing.identity import settings
from processing.service import calendar, catalogue, staff
from tests.integration.console_tools import PASSWORD, form_token, sign_in, with_password

pytestmark = pytest.mark.integration

COMMUNE, DISTRICT = "09496", "264"
ACCOUNTS = [
    {"user_id": "qt.xa", "name": "Quản trị xã", "roles": ["admin"], "units": [COMMUNE, "09499"]},
    {"user_id": "qt.huyen", "name": "Quản trị huyện", "roles": ["admin"], "units": [DISTRICT]},
    {"user_id": "cv.xa", "name": "Chuyên viên xã", "roles": ["specialist"], "units": [COMMUNE]},
    {"user_id": "cv.huyen", "name": "Chuyên viên huyện", "roles": ["specialist"], "units": [DISTRICT]},
]
BIRTH = "1.001193"
# Another administrator of the commune, saving through the service as the API does.
OTHER_ADMIN = Staff("qt.khac", "Quản trị khác", frozenset({"admin"}), frozenset({COMMUNE, DISTRICT}))


class Forms(HTMLParser):
    """The fields a browser would send with each form of a page (by its action), as (name, value)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, list[tuple[str, str]]] = {}
        self._form: list[tuple[str, str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method") == "post":
            self._form = self.forms.setdefault(a["action"], [])
        elif self._form is None or "name" not in a and tag != "option":
            return
        elif tag == "input" and a.get("type") not in ("submit",):
            if a.get("type") != "checkbox" or "checked" in a:
                self._form.append((a["name"], a.get("value", "on")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self._form.append((self._select, a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._form is not None and self._textarea:
            self._form.append((self._textarea, self._text))
            self._textarea = None


def form_of(page: Any, action: str) -> dict[str, Any]:
    """The form posting to `action` as filled on the page (a list for a repeated name)."""
    parser = Forms()
    parser.feed(page.get_data(as_text=True))
    pairs = parser.forms[action]
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name in fields:
            fields[name] = [*fields[name], value] if isinstance(fields[name], list) else [fields[name], value]
        else:
            fields[name] = value
    # A page without a "selected" option sends the first one; the tests' selects all mark theirs.
    return fields


@pytest.fixture
def db(processing_app):
    db = processing_app.extensions["db"]
    results, problems = importer.seed(db, progress=False)
    assert problems == []
    staff.seed(db, ACCOUNTS, actor="test")
    for account in ACCOUNTS:
        with_password(db, account["user_id"])
    return db


@pytest.fixture
def admin(db, processing_client):
    """The client signed in as the administrator of commune 09496 (and 09499)."""
    assert sign_in(processing_client, "qt.xa").status_code == 302
    return processing_client


def text_of(answer: Any) -> str:
    return answer.get_data(as_text=True)


def test_administrators_alone_see_the_screens(db, processing_app, admin):
    home = admin.get("/console/")
    assert 'href="/console/quan-tri/"' in text_of(home), "the NAV row for administrators"
    landing = admin.get("/console/quan-tri/")
    assert landing.status_code == 200
    for link in ("tai-khoan", "don-vi", "thu-tuc", "lich", "dang-nhap"):
        assert f'href="/console/quan-tri/{link}' in text_of(landing), link

    officer = processing_app.test_client()
    assert sign_in(officer, "cv.xa").status_code == 302
    assert 'href="/console/quan-tri/"' not in text_of(officer.get("/console/"))
    for path in ("/console/quan-tri/", "/console/quan-tri/tai-khoan", "/console/quan-tri/lich/2026"):
        assert officer.get(path).status_code == 403, path
    token = form_token(officer, "/console/")
    edit = officer.post(
        f"/console/quan-tri/don-vi/{COMMUNE}", data={"csrf_token": token, "name": "Đổi tên", "version": "1"}
    )
    assert edit.status_code == 403 and catalogue.get(db, catalogue.UNITS, COMMUNE)["version"] == 1


def test_an_account_is_created_edited_on_its_version_and_audited(db, admin):
    listed = admin.get("/console/quan-tri/tai-khoan", query_string={"unit": COMMUNE, "role": "specialist"})
    assert listed.status_code == 200 and "cv.xa" in text_of(listed) and "qt.xa" not in text_of(listed)

    new = admin.get("/console/quan-tri/tai-khoan/moi", query_string={"unit": COMMUNE})
    fields = form_of(new, "/console/quan-tri/tai-khoan/moi")
    assert fields["units"] == COMMUNE, "the unit listed is ticked"
    bad = admin.post(
        "/console/quan-tri/tai-khoan/moi", data={**fields, "user_id": "Cán Bộ", "name": "Đỗ Thị Mới"}
    )
    page = text_of(bad)
    assert bad.status_code == 422 and store.get_staff(db, "Cán Bộ") is None
    assert 'id="user_id-loi"' in page and "Tên đăng nhập: 2–64 ký tự" in page
    assert 'id="roles-loi"' in page, "no role ticked"
    assert 'value="Đỗ Thị Mới"' in page, "what was typed comes back"

    created = admin.post(
        "/console/quan-tri/tai-khoan/moi",
        data={
            **fields,
            "user_id": "cv.moi",
            "name": "Đỗ Thị Mới",
            "roles": "specialist",
            "reason": "Tuyển dụng",
        },
    )
    assert created.status_code == 302 and created.headers["Location"].startswith(
        "/console/quan-tri/tai-khoan/cv.moi"
    )
    account = store.get_staff(db, "cv.moi")
    assert (account["roles"], account["units"], account["version"]) == (["specialist"], [COMMUNE], 1)
    taken = admin.post(
        "/console/quan-tri/tai-khoan/moi",
        data={**fields, "user_id": "cv.moi", "name": "Khác", "roles": "specialist"},
    )
    assert taken.status_code == 409 and "đã có" in text_of(taken)

    edit_page = admin.get("/console/quan-tri/tai-khoan/cv.moi")
    edit = form_of(edit_page, "/console/quan-tri/tai-khoan/cv.moi")
    assert edit["version"] == "1" and edit["active"]
    no_reason = admin.post("/console/quan-tri/tai-khoan/cv.moi", data={**edit, "name": "Đỗ Thị Mới Sửa"})
    assert no_reason.status_code == 422 and 'id="reason-loi"' in text_of(no_reason)
    assert store.get_staff(db, "cv.moi")["name"] == "Đỗ Thị Mới"

    # Someone else saves first (through the service, as the API would).
    other = staff.get(db, "cv.moi")
    staff.update(
        db,
        "cv.moi",
        {**{k: other[k] for k in staff.FIELDS}, "name": "Tên Người Khác", "reason": "Sửa"},
        1,
        OTHER_ADMIN,
    )
    stale = admin.post(
        "/console/quan-tri/tai-khoan/cv.moi", data={**edit, "name": "Tên Của Tôi", "reason": "Đổi tên"}
    )
    page = text_of(stale)
    assert stale.status_code == 409 and "người khác vừa sửa" in page
    assert 'value="Tên Người Khác"' in page and 'name="version" value="2"' in page
    assert store.get_staff(db, "cv.moi")["name"] == "Tên Người Khác"

    fresh = form_of(stale, "/console/quan-tri/tai-khoan/cv.moi")
    fresh.pop("active")  # unticked: the account is deactivated
    saved = admin.post(
        "/console/quan-tri/tai-khoan/cv.moi",
        data={**fresh, "name": "Tên Của Tôi", "roles": ["specialist", "leader"], "reason": "Nghỉ phép dài"},
    )
    assert saved.status_code == 302
    account = store.get_staff(db, "cv.moi")
    assert (account["name"], account["active"], account["roles"], account["version"]) == (
        "Tên Của Tôi",
        False,
        ["leader", "specialist"],
        3,
    )
    history = staff.history(db, "cv.moi", OTHER_ADMIN)
    assert [(h["action"], h["actor"], h["reason"]) for h in history][0] == (
        "staff.updated",
        "qt.xa",
        "Nghỉ phép dài",
    )
    shown = text_of(admin.get("/console/quan-tri/tai-khoan/cv.moi"))
    assert "Nghỉ phép dài" in shown and "Tuyển dụng" in shown and "Tên Người Khác → Tên Của Tôi" in shown


def test_a_temporary_password_must_be_changed_at_the_next_sign_in(db, processing_app, admin):
    page = admin.get("/console/quan-tri/tai-khoan/cv.xa")
    fields = form_of(page, "/console/quan-tri/tai-khoan/cv.xa/mat-khau")
    no_reason = admin.post(
        "/console/quan-tri/tai-khoan/cv.xa/mat-khau",
        data={**fields, "password": "tam-thoi-2026-xa", "password_reason": ""},
    )
    assert no_reason.status_code == 422 and 'id="password_reason-loi"' in text_of(no_reason)
    weak = admin.post(
        "/console/quan-tri/tai-khoan/cv.xa/mat-khau",
        data={**fields, "password": "ngan", "password_reason": "Quên"},
    )
    assert weak.status_code == 422 and 'id="password-loi"' in text_of(weak)
    assert 'value="Quên"' in text_of(weak), "the reason typed comes back"
    assert store.list_audit(db, "staff:cv.xa")[0]["action"] == "staff.created"

    given = admin.post(
        "/console/quan-tri/tai-khoan/cv.xa/mat-khau",
        data={**fields, "password": "tam-thoi-2026-xa", "password_reason": "Cán bộ quên mật khẩu"},
    )
    assert given.status_code == 302
    assert "Đã cấp mật khẩu tạm" in text_of(admin.get(given.headers["Location"]))
    entry = store.list_audit(db, "staff:cv.xa")[0]
    assert (entry["action"], entry["actor"], entry["reason"]) == (
        "staff.password_reset",
        "qt.xa",
        "Cán bộ quên mật khẩu",
    )
    assert "tam-thoi-2026-xa" not in repr(entry)

    officer = processing_app.test_client()
    assert sign_in(officer, "cv.xa", PASSWORD).status_code == 401, "the old password is gone"
    assert sign_in(officer, "cv.xa", "tam-thoi-2026-xa").status_code == 302
    assert officer.get("/console/").headers["Location"] == "/console/doi-mat-khau"


def test_an_administrator_sees_and_edits_only_the_accounts_of_their_units(db, admin):
    assert admin.get("/console/quan-tri/tai-khoan", query_string={"unit": DISTRICT}).status_code == 403
    assert admin.get("/console/quan-tri/tai-khoan/cv.huyen").status_code == 403
    token = form_token(admin, "/console/quan-tri/")
    edit = admin.post(
        "/console/quan-tri/tai-khoan/cv.huyen",
        data={
            "csrf_token": token,
            "name": "Chiếm",
            "roles": "specialist",
            "units": COMMUNE,
            "version": "1",
            "reason": "x",
            "active": "1",
        },
    )
    assert edit.status_code == 403 and store.get_staff(db, "cv.huyen")["name"] == "Chuyên viên huyện"
    password = admin.post(
        "/console/quan-tri/tai-khoan/cv.huyen/mat-khau",
        data={"csrf_token": token, "password": "mat-khau-chiem-2026", "password_reason": "x"},
    )
    assert (
        password.status_code == 403 and store.list_audit(db, "staff:cv.huyen")[0]["action"] == "staff.created"
    )
    moved = admin.post(
        "/console/quan-tri/tai-khoan/cv.xa",
        data={
            "csrf_token": token,
            "name": "Chuyên viên xã",
            "roles": "specialist",
            "units": DISTRICT,
            "version": "1",
            "reason": "Chuyển",
            "active": "1",
        },
    )
    assert moved.status_code == 403 and store.get_staff(db, "cv.xa")["units"] == [COMMUNE]
    unit_options = text_of(admin.get("/console/quan-tri/tai-khoan"))
    assert f'value="{COMMUNE}"' in unit_options and f'value="{DISTRICT}"' not in unit_options


def test_a_unit_is_edited_on_its_version_with_its_history(db, admin):
    path = f"/console/quan-tri/don-vi/{COMMUNE}"
    listed = admin.get("/console/quan-tri/don-vi")
    assert listed.status_code == 200 and f'href="{path}"' in text_of(listed)
    fields = form_of(admin.get(path), path)
    assert fields["version"] == "1" and fields["type"] == "town" and fields["parent"] == DISTRICT

    bad = admin.post(path, data={**fields, "electronic_id": "sai", "parent": COMMUNE})
    page = text_of(bad)
    assert bad.status_code == 422
    for field in ("electronic_id", "parent"):
        assert f'id="{field}-loi"' in page, field
    unknown = admin.post(path, data={**fields, "parent": "99999"})
    assert unknown.status_code == 422 and "Đơn vị cấp trên không tồn tại: 99999." in text_of(unknown)

    saved = admin.post(path, data={**fields, "phone": "0222 3866 001", "change_reason": "Số điện thoại mới"})
    assert saved.status_code == 302
    unit = catalogue.get(db, catalogue.UNITS, COMMUNE)
    assert (unit["phone"], unit["version"], unit["updated_by"]) == ("0222 3866 001", 2, "qt.xa")
    entry, created = catalogue.unit_history(db, COMMUNE)
    assert (created["action"], created["before"]) == ("units.created", None)
    assert (entry["action"], entry["reason"], entry["after"]["phone"]) == (
        "units.updated",
        "Số điện thoại mới",
        "0222 3866 001",
    )
    shown = text_of(admin.get(path))
    assert "Số điện thoại mới" in shown and "0222 3866 001" in shown

    stale = admin.post(path, data={**fields, "short_name": "Xã cũ"})
    assert stale.status_code == 409 and "người khác vừa sửa" in text_of(stale)
    assert (
        'value="0222 3866 001"' in text_of(stale)
        and catalogue.get(db, catalogue.UNITS, COMMUNE)["version"] == 2
    )


def test_a_procedure_is_edited_row_by_row_into_a_new_version(db, admin):
    path = f"/console/quan-tri/thu-tuc/{BIRTH}"
    listed = admin.get("/console/quan-tri/thu-tuc", query_string={"level": "commune", "unit": COMMUNE})
    assert listed.status_code == 200 and f'href="{path}"' in text_of(listed)
    assert admin.get("/console/quan-tri/thu-tuc", query_string={"level": "tinh"}).status_code == 422
    before = catalogue.get(db, catalogue.PROCEDURES, BIRTH)
    fields = form_of(admin.get(path), path)
    rows = int(fields["form_fields-count"])
    assert rows == len(before["form_fields"]) and int(fields["documents-count"]) == len(before["documents"])

    # "Thêm trường" brings the form back with one empty row more and what was typed; nothing saved.
    added = admin.post(path, data={**fields, "name": "Tên đang sửa", "add_form_fields": "1"})
    assert added.status_code == 200 and 'value="Tên đang sửa"' in text_of(added)
    grown = form_of(added, path)
    assert int(grown["form_fields-count"]) == rows + 1 and grown[f"form_fields-{rows}-name"] == ""
    assert catalogue.get(db, catalogue.PROCEDURES, BIRTH)["version"] == 1

    bad = admin.post(
        path,
        data={
            **grown,
            f"form_fields-{rows}-name": "Sai Ten",
            f"form_fields-{rows}-label": "Nghề nghiệp",
            f"form_fields-{rows}-type": "choice",
            "amount": "nhiều",
            "save": "1",
        },
    )
    page = text_of(bad)
    assert bad.status_code == 422
    assert f'id="form_fields-{rows}-name-loi"' in page and "Tên trường: chữ thường a–z, số, _." in page
    assert 'id="amount-loi"' in page and "Phải là số." in page

    removed = admin.post(path, data={**grown, "remove_documents": "0"})
    shrunk = form_of(removed, path)
    assert int(shrunk["documents-count"]) == len(before["documents"]) - 1
    assert shrunk["documents-0-code"] == before["documents"][1]["code"]

    saved = admin.post(
        path,
        data={
            **shrunk,
            f"form_fields-{rows}-name": "occupation",
            f"form_fields-{rows}-label": "Nghề nghiệp",
            f"form_fields-{rows}-type": "choice",
            f"form_fields-{rows}-choices": "Nông dân; Công nhân",
            "change_reason": "Thêm nghề nghiệp",
            "save": "1",
        },
    )
    assert saved.status_code == 302, text_of(saved)[:2000]
    after = catalogue.get(db, catalogue.PROCEDURES, BIRTH)
    assert (after["version"], after["change_reason"], after["updated_by"]) == (2, "Thêm nghề nghiệp", "qt.xa")
    assert after["form_fields"][-1] == {
        "name": "occupation",
        "label": "Nghề nghiệp",
        "type": "choice",
        "required": True,
        "choices": ["Nông dân", "Công nhân"],
    }
    assert [d["code"] for d in after["documents"]] == [d["code"] for d in before["documents"][1:]]
    assert after["fees"] == before["fees"] and after["processing_time"] == before["processing_time"]
    versions = admin.get(f"{path}/phien-ban")
    assert versions.status_code == 200 and "Thêm nghề nghiệp" in text_of(versions)
    assert [v["version"] for v in catalogue.procedure_versions(db, BIRTH)] == [1, 2]

    stale = admin.post(path, data={**fields, "name": "Tên cũ", "save": "1"})
    assert stale.status_code == 409 and "người khác vừa sửa" in text_of(stale)
    assert catalogue.get(db, catalogue.PROCEDURES, BIRTH)["version"] == 2


def test_a_year_of_holidays_is_edited_row_by_row_and_audited(db, admin):
    path = "/console/quan-tri/lich/2026"
    assert admin.get("/console/quan-tri/lich", query_string={"nam": "2026"}).headers["Location"] == path
    before = calendar.get_year(db, 2026)
    fields = form_of(admin.get(path), path)
    days = int(fields["days_off-count"])
    assert days == len(before["days_off"]) and fields["version"] == str(before["version"])

    added = admin.post(path, data={**fields, "add_days_off": "1"})
    grown = form_of(added, path)
    assert int(grown["days_off-count"]) == days + 1 and grown[f"days_off-{days}-kind"] == "holiday"

    weekday = admin.post(
        path,
        data={
            **grown,
            f"days_off-{days}-date": "2026-12-31",
            f"days_off-{days}-name": "Nghỉ cuối năm",
            "working_days-count": "1",
            "working_days-0-date": "2026-12-30",
            "working_days-0-name": "Làm bù",
            "save": "1",
        },
    )
    assert weekday.status_code == 422 and "Ngày làm bù phải là thứ Bảy hoặc Chủ nhật." in text_of(weekday)
    empty = admin.post(path, data={**grown, "save": "1"})
    assert empty.status_code == 422 and f'id="days_off-{days}-date-loi"' in text_of(empty)

    saved = admin.post(
        path,
        data={
            **grown,
            f"days_off-{days}-date": "2026-12-31",
            f"days_off-{days}-name": "Nghỉ cuối năm",
            f"days_off-{days}-kind": "compensatory",
            "reason": "Quyết định của UBND tỉnh",
            "save": "1",
        },
    )
    assert saved.status_code == 302
    year = calendar.get_year(db, 2026)
    assert year["version"] == before["version"] + 1
    assert {"date": "2026-12-31", "name": "Nghỉ cuối năm", "kind": "compensatory"} in [
        {**d, "date": str(d["date"])[:10]} for d in year["days_off"]
    ]
    [entry] = calendar.history(db, 2026)
    assert (entry["actor"], entry["reason"]) == ("qt.xa", "Quyết định của UBND tỉnh")
    assert "Quyết định của UBND tỉnh" in text_of(admin.get(path))

    stale = admin.post(path, data={**fields, "save": "1"})
    assert stale.status_code == 409 and "người khác vừa sửa" in text_of(stale)
    assert "Nghỉ cuối năm" in text_of(stale)


def test_the_second_factor_rule_is_set_with_a_reason(db, admin):
    path = "/console/quan-tri/dang-nhap"
    fields = form_of(admin.get(path), path)
    no_reason = admin.post(path, data={**fields, "totp_required_roles": ["leader", "admin"]})
    assert no_reason.status_code == 422 and 'id="reason-loi"' in text_of(no_reason)
    saved = admin.post(
        path, data={**fields, "totp_required_roles": ["leader", "admin"], "reason": "Quy chế mới"}
    )
    assert saved.status_code == 302
    assert settings.get(db)["totp_required_roles"] == ["admin", "leader"]
    entry = store.list_audit(db, settings.TARGET)[0]
    assert (entry["actor"], entry["reason"]) == ("qt.xa", "Quy chế mới")
    stale = admin.post(path, data={**fields, "totp_required_roles": [], "reason": "Bỏ"})
    assert stale.status_code == 409 and "người khác vừa sửa" in text_of(stale)
    assert settings.get(db)["totp_required_roles"] == ["admin", "leader"]
