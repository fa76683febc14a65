"""The demo district `make run` seeds once, through the services' own code paths.

- News articles and directive documents of the district and several communes: through the
  portal's editor API (draft → review → published; each document with its PDF).
- A few hundred dossiers over the last months, in every state: filed with intake's filing use case
  (`intake.service.dossiers.file(..., now=)`, which writes the dossier and its event; intake's
  worker publishes it), then, once processing's worker has the dossier, worked with processing's
  workflow use case (`processing.service.dossiers.perform(..., now=)`) as the demo staff of the
  right role and unit; supplements and withdrawals with intake's use cases, ratings with the
  portal's. The HTTP APIs cannot date an action in the past; these functions take `now`. Nothing is
  written into a database by hand: every state comes from the real code and its events, which
  notify (emails, letters) and the portal (status, statistics) follow by themselves.

Seeded once: the portal's editor API is asked for the demo's last article; when it is published,
nothing is done. The articles and documents come first (a run stopped among them goes on from
where it stopped), then the dossiers (a run stopped among them is not taken up again: the articles
are there). Randomness is seeded (`random.Random`), so a given day and size give the same district.
"""

from __future__ import annotations

import io
import logging
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import requests
from pymongo.errors import PyMongoError
from tqdm import tqdm

from devstack import demo_content
from devstack.run import STAFF_SEED, api_url
from devstack.tokens import ensure_keypair, issue_token
from eventkit.auth import Roles, Staff
from eventkit.blobs import BlobStore, open_blob_store
from eventkit.mongo import Db
from eventkit.text import without_diacritics

log = logging.getLogger(__name__)

DEFAULT_DOSSIERS = 300
DEFAULT_SEED = 2019
WINDOW_DAYS = 150
# The demo's own Idempotency-Keys: a run interrupted and started again within a day finds the
# dossiers it filed already instead of filing them twice.
KEY_PREFIX = "demo"
UPLOAD_MAX_BYTES = 20 * 1024 * 1024
FONT = "BeVietnamPro"


# -- the district's people ------------------------------------------------------------------------

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Ngô",
    "Dương",
    "Nghiêm",
    "Phan",
    "Trịnh",
    "Đinh",
    "Hà",
    "Lương",
    "Tạ",
    "Cao",
    "Lại",
]
MIDDLE = {
    "m": ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công", "Xuân", "Mạnh"],
    "f": ["Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Phương", "Thùy", "Kim"],
}
GIVEN = {
    "m": [
        "Hùng",
        "Dũng",
        "Tuấn",
        "Nam",
        "Long",
        "Quân",
        "Hải",
        "Sơn",
        "Thắng",
        "Cường",
        "Toàn",
        "Khánh",
        "Phong",
        "Hiếu",
        "Trung",
        "Đạt",
        "Bình",
        "Tú",
        "Vinh",
        "Hưng",
        "Kiên",
        "Lâm",
    ],
    "f": [
        "Hoa",
        "Lan",
        "Hương",
        "Mai",
        "Hạnh",
        "Yến",
        "Trang",
        "Linh",
        "Ngân",
        "Thảo",
        "Huyền",
        "Nga",
        "Dung",
        "Hằng",
        "Oanh",
        "Liên",
        "Vân",
        "Nhung",
        "Thủy",
        "Phượng",
        "Loan",
        "Hà",
    ],
}
VILLAGES = [
    "thôn Đông",
    "thôn Đoài",
    "thôn Thượng",
    "thôn Hạ",
    "thôn Trung",
    "thôn Ngọc",
    "thôn Phú",
    "thôn An",
    "thôn Tân",
    "thôn Mỹ",
    "khu phố 1",
    "khu phố 2",
    "khu phố 3",
]
MOBILE_PREFIXES = [
    "091",
    "094",
    "088",
    "098",
    "097",
    "096",
    "086",
    "033",
    "035",
    "037",
    "039",
    "070",
    "077",
    "079",
    "081",
    "083",
    "085",
    "090",
    "093",
]


def fold(text: str) -> str:
    """Without diacritics, lower case (for an email address)."""
    return without_diacritics(text).lower()


@dataclass(frozen=True)
class Person:
    family: str
    middle: str
    given: str
    sex: str  # "m" or "f"
    born: date

    @property
    def name(self) -> str:
        return f"{self.family} {self.middle} {self.given}"


def person(
    rng: random.Random, sex: str | None = None, born: tuple[int, int] = (1955, 2003), family: str = ""
) -> Person:
    sex = sex or rng.choice("mf")
    year = rng.randint(*born)
    return Person(
        family or rng.choice(FAMILY),
        rng.choice(MIDDLE[sex]),
        rng.choice(GIVEN[sex]),
        sex,
        date(year, rng.randint(1, 12), rng.randint(1, 28)),
    )


def cccd(rng: random.Random, who: Person | None = None) -> str:
    """A citizen id of the real shape: Bắc Ninh's 027, century and sex, the year's last two digits."""
    if who is None:
        return f"027{rng.randint(0, 3)}{rng.randint(0, 99_999_999):08d}"
    century = (who.born.year // 100 - 19) * 2 + (1 if who.sex == "f" else 0)
    return f"027{century}{who.born.year % 100:02d}{rng.randint(0, 999_999):06d}"


def phone(rng: random.Random) -> str:
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 9_999_999):07d}"


# -- what each procedure's form says --------------------------------------------------------------


@dataclass
class Filing:
    """What a dossier's filing says, with the things its form values are made of."""

    rng: random.Random
    applicant: Person
    unit_name: str
    commune: str  # the applicant's commune or town, "xã An Thịnh"
    address: str
    day: date

    def days_before(self, low: int, high: int) -> str:
        return (self.day - timedelta(days=self.rng.randint(low, high))).isoformat()

    def pick(self, *options: Any) -> Any:
        return self.rng.choice(options)

    def relative(self, sex: str | None = None, born: tuple[int, int] = (1950, 2000)) -> Person:
        return person(self.rng, sex, born, family=self.applicant.family)

    def someone(self, sex: str | None = None, born: tuple[int, int] = (1960, 2000)) -> Person:
        return person(self.rng, sex, born)

    def parcel(self) -> str:
        return (
            f"Thửa đất số {self.rng.randint(12, 480)}, tờ bản đồ số {self.rng.randint(1, 36)}, {self.address}"
        )


def _birth(f: Filing) -> dict[str, Any]:
    sex = f.pick("m", "f")
    child = person(f.rng, sex, (f.day.year, f.day.year), family=f.applicant.family)
    form: dict[str, Any] = {
        "child_full_name": child.name,
        "child_birth_date": f.days_before(3, 50),
        "child_sex": "Nam" if sex == "m" else "Nữ",
        "birth_place": f.pick(
            "Bệnh viện Đa khoa huyện Lương Tài", f"Trạm Y tế {f.commune}", "Bệnh viện Sản – Nhi tỉnh Bắc Ninh"
        ),
    }
    if f.rng.random() < 0.6:
        form["mother_cccd" if f.applicant.sex == "m" else "father_cccd"] = cccd(f.rng)
    return form


def _death(f: Filing) -> dict[str, Any]:
    deceased = f.relative(born=(1930, 1960))
    form = {
        "deceased_full_name": deceased.name,
        "death_date": f.days_before(1, 12),
        "death_place": f.pick(f"Tại nhà riêng, {f.address}", "Bệnh viện Đa khoa tỉnh Bắc Ninh"),
        "death_cause": f.pick("Bệnh già", "Bệnh hiểm nghèo", "Tai biến mạch máu não"),
        "relationship_to_deceased": f.pick("Con trai", "Con gái", "Vợ", "Chồng", "Cháu nội"),
    }
    if f.rng.random() < 0.7:
        form["deceased_cccd"] = cccd(f.rng, deceased)
    return form


def _marriage(f: Filing) -> dict[str, Any]:
    spouse = f.someone("f" if f.applicant.sex == "m" else "m", (1988, 2002))
    return {
        "spouse_full_name": spouse.name,
        "spouse_cccd": cccd(f.rng, spouse),
        "spouse_birth_date": spouse.born.isoformat(),
        "spouse_residence": f"{f.pick(*VILLAGES)}, "
        f"xã {f.pick('An Thịnh', 'Trung Kênh', 'Quảng Phú', 'Minh Tân')}, huyện Lương Tài, tỉnh Bắc Ninh",
    }


def _marital_status(f: Filing) -> dict[str, Any]:
    single = f.rng.random() < 0.8
    form: dict[str, Any] = {
        "marital_status": "Chưa đăng ký kết hôn" if single else f.pick("Đã ly hôn", "Đang có vợ/chồng"),
        "purpose": f.pick(
            "Đăng ký kết hôn",
            "Bổ sung hồ sơ vay vốn ngân hàng",
            "Bổ sung hồ sơ xin việc làm",
            "Làm thủ tục chuyển nhượng quyền sử dụng đất",
        ),
        "reissue": "Không",
    }
    if single and form["purpose"] == "Đăng ký kết hôn":
        form["intended_spouse_name"] = f.someone("f" if f.applicant.sex == "m" else "m").name
    return form


def _birth_again(f: Filing) -> dict[str, Any]:
    return {
        "person_full_name": f.applicant.name,
        "person_birth_date": f.applicant.born.isoformat(),
        "original_registration_place": f"Ủy ban nhân dân {f.commune}",
        "original_registration_year": f.applicant.born.year,
    }


def _extract(f: Filing) -> dict[str, Any]:
    return {
        "extract_type": f.pick("Trích lục khai sinh", "Trích lục kết hôn", "Trích lục khai tử"),
        "subject_full_name": f.pick(f.applicant.name, f.relative().name),
        "registration_number": f"{f.rng.randint(1, 250)}/{f.rng.randint(1995, 2024)}",
        "copy_count": f.rng.randint(1, 3),
    }


def _copy_from_register(f: Filing) -> dict[str, Any]:
    return {
        "document_type": f.pick(
            "Bằng tốt nghiệp trung học phổ thông", "Giấy khai sinh", "Giấy chứng nhận kết hôn"
        ),
        "issuing_agency": f.pick("Sở Giáo dục và Đào tạo tỉnh Bắc Ninh", f"Ủy ban nhân dân {f.commune}"),
        "holder_full_name": f.applicant.name,
        "relationship_to_holder": "Chính là người được cấp bản chính",
        "copy_count": f.rng.randint(1, 2),
    }


def _certified_copy(f: Filing) -> dict[str, Any]:
    return {
        "document_title": f.pick(
            "Giấy khai sinh",
            "Căn cước công dân",
            "Bằng tốt nghiệp đại học",
            "Giấy chứng nhận quyền sử dụng đất",
            "Học bạ trung học phổ thông",
        ),
        "page_count": f.rng.randint(1, 4),
        "copy_count": f.rng.randint(1, 5),
    }


def _signature(f: Filing) -> dict[str, Any]:
    return {
        "document_title": f.pick("Giấy ủy quyền", "Đơn đề nghị xác nhận", "Bản cam kết", "Tờ khai lý lịch"),
        "signer_count": f.rng.randint(1, 2),
        "signing_mode": "Ký",
    }


def _contract(f: Filing) -> dict[str, Any]:
    kind = f.pick("land", "gift", "motorbike")
    title, asset, description = {
        "land": ("Hợp đồng chuyển nhượng quyền sử dụng đất", "Quyền sử dụng đất", f.parcel()),
        "gift": ("Hợp đồng tặng cho quyền sử dụng đất", "Quyền sử dụng đất", f.parcel()),
        "motorbike": (
            "Hợp đồng mua bán xe máy",
            "Động sản",
            f"Xe máy biển kiểm soát 99-B1 {f.rng.randint(100, 999)}.{f.rng.randint(10, 99)}",
        ),
    }[kind]
    return {
        "contract_title": title,
        "asset_type": asset,
        "asset_description": description,
        "counterparty_cccd": cccd(f.rng),
        "copy_count": f.rng.randint(2, 4),
    }


def _residence(f: Filing) -> dict[str, Any]:
    return {
        "new_residence_address": f.address,
        "residence_basis": f.pick(
            "Chỗ ở hợp pháp thuộc quyền sở hữu của mình", "Nhập hộ theo quan hệ gia đình"
        ),
        "previous_residence": f"{f.pick(*VILLAGES)}, xã {f.pick('Đông Cứu', 'Song Hồ', 'Đại Bái')}, "
        "huyện Gia Bình, tỉnh Bắc Ninh",
    }


def _social_allowance(f: Filing) -> dict[str, Any]:
    beneficiary = f.relative(born=(1930, 1950))
    return {
        "request_type": "Thực hiện trợ cấp xã hội hàng tháng",
        "beneficiary_full_name": beneficiary.name,
        "beneficiary_birth_date": beneficiary.born.isoformat(),
        "beneficiary_cccd": cccd(f.rng, beneficiary),
        "beneficiary_group": f.pick("Người cao tuổi", "Người khuyết tật"),
    }


def _household_business(f: Filing) -> dict[str, Any]:
    trade, line = f.pick(
        ("Tạp hóa", "Bán lẻ hàng tạp hóa, đồ uống"),
        ("Sửa chữa xe máy", "Bảo dưỡng, sửa chữa mô tô, xe máy"),
        ("Quán ăn", "Dịch vụ ăn uống"),
        ("May mặc", "May trang phục"),
        ("Vật liệu xây dựng", "Bán lẻ vật liệu xây dựng"),
    )
    return {
        "business_name": f"Hộ kinh doanh {trade} {f.applicant.given} {f.applicant.family}",
        "business_address": f.address,
        "business_lines": line,
        "capital_vnd": f.rng.randint(5, 80) * 10_000_000,
        "employee_count": f.rng.randint(1, 6),
    }


def _building_permit(f: Filing) -> dict[str, Any]:
    floors = f.rng.randint(2, 4)
    return {
        "construction_site": f.parcel(),
        "land_certificate_number": f"CS {f.rng.randint(10_000, 99_999):05d}",
        "work_type": "Nhà ở riêng lẻ",
        "floor_area_m2": f.rng.randint(80, 140) * floors,
        "floor_count": floors,
        "building_height_m": round(floors * 3.6 + 1.2, 1),
    }


def _land(f: Filing) -> dict[str, Any]:
    return {
        "parcel_address": f.address,
        "map_sheet_number": str(f.rng.randint(1, 36)),
        "parcel_number": str(f.rng.randint(12, 480)),
        "area_m2": f.rng.randint(90, 360),
        "land_use_purpose": f.pick("Đất ở tại nông thôn", "Đất trồng cây lâu năm"),
        "register_attached_assets": f.pick("Có", "Không"),
    }


@dataclass(frozen=True)
class Kind:
    """A procedure the demo files: its form, how common it is, and its delivery choices."""

    form: Callable[[Filing], dict[str, Any]]
    weight: int
    result: str  # the result's title on the PDF


KINDS: dict[str, Kind] = {
    "1.001193": Kind(_birth, 14, "Giấy khai sinh (bản điện tử)"),
    "1.000656": Kind(_death, 5, "Trích lục khai tử"),
    "1.000894": Kind(_marriage, 7, "Giấy chứng nhận kết hôn"),
    "1.004873": Kind(_marital_status, 9, "Giấy xác nhận tình trạng hôn nhân"),
    "1.004884": Kind(_birth_again, 3, "Giấy khai sinh (đăng ký lại)"),
    "2.000635": Kind(_extract, 7, "Bản sao trích lục hộ tịch"),
    "2.000908": Kind(_copy_from_register, 3, "Bản sao cấp từ sổ gốc"),
    "2.000815": Kind(_certified_copy, 16, "Bản sao đã chứng thực"),
    "2.000884": Kind(_signature, 6, "Giấy tờ đã chứng thực chữ ký"),
    "2.001035": Kind(_contract, 6, "Hợp đồng đã chứng thực"),
    "1.004222": Kind(_residence, 5, "Thông báo kết quả đăng ký thường trú"),
    "1.001776": Kind(_social_allowance, 3, "Quyết định hưởng trợ cấp xã hội hằng tháng"),
    "1.001612": Kind(_household_business, 6, "Giấy chứng nhận đăng ký hộ kinh doanh"),
    "1.013225": Kind(_building_permit, 4, "Giấy phép xây dựng"),
    "1.013978": Kind(_land, 3, "Giấy chứng nhận quyền sử dụng đất"),
}

REFUSALS = [
    "Hồ sơ không thuộc thẩm quyền giải quyết của đơn vị.",
    "Người nộp không phải là người có quyền yêu cầu theo quy định.",
    "Thông tin trên tờ khai không khớp với giấy tờ tùy thân đã nộp.",
]
SUPPLEMENT_REASONS = [
    ("Bản chụp tờ khai bị mờ, không đọc được chữ ký.", "Tờ khai có chữ ký rõ ràng"),
    ("Thiếu trang 2 của giấy tờ đã nộp.", "Bản chụp đủ các trang"),
    ("Giấy tờ tùy thân đã hết hạn.", "Bản chụp căn cước công dân còn hạn"),
]
WITHDRAWALS = [
    "Tôi đã nộp nhầm thủ tục.",
    "Gia đình không còn nhu cầu.",
    "Tôi sẽ nộp lại sau khi bổ sung giấy tờ.",
]
REJECTIONS = ["Kết quả xác minh cho thấy không đủ điều kiện giải quyết theo quy định."]


# -- the plan of one dossier ----------------------------------------------------------------------

# Fates: what happens to a dossier, with its share of a large demo. Every fate appears at least once.
FATES: dict[str, int] = {
    "returned": 50,
    "returned_after_supplement": 5,
    "returned_after_extension": 2,
    "result_ready": 5,
    "approved": 2,
    "awaiting_approval": 4,
    "in_progress": 7,
    "accepted": 4,
    "submitted": 4,
    "supplement_requested": 4,
    "refused": 4,
    "withdrawn": 4,
    "rejected": 2,
    "stopped": 1,
}
# A fate whose dossier is finished at the counter that received it: the unit must resolve it itself.
RETURNED = ("returned", "returned_after_supplement", "returned_after_extension")
# Fates that start with an online filing waiting for the counter's check.
ONLINE_ONLY = ("submitted", "refused")
# How many days ago open dossiers were filed (recent ones are still being worked).
RECENT = {
    "submitted": (0, 2),
    "accepted": (0, 4),
    "in_progress": (1, 30),
    "awaiting_approval": (1, 8),
    "approved": (1, 5),
    "result_ready": (1, 8),
    "supplement_requested": (1, 12),
}


@dataclass
class Step:
    """One thing done to a dossier at `at`: a processing action (`act`), or the citizen's supplement,
    withdrawal or rating."""

    at: datetime
    kind: str  # act | supplement | withdraw | rate
    action: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    staff: Staff | None = None
    # What must be true before it runs: the dossier arrived in processing (`arrived`), processing
    # applied the citizen's supplement (`caught_up`), intake opened the supplement (`open`) or
    # has every processing event (`synced`), the portal shows it returned (`returned`).
    needs: str = ""


@dataclass
class Dossier:
    index: int
    fate: str
    procedure: str
    unit: str
    channel: str
    submitted_at: datetime
    body: dict[str, Any]
    counter: Staff | None
    steps: list[Step] = field(default_factory=list)
    code: str = ""
    secret: str = ""
    intake_sequence: int = 1
    done: int = 0
    failed: str = ""
    result_title: str = ""
    timing: str = ""  # late, on_time or early: how a returned one is resolved (else at random)


class Staffing:
    """The demo staff accounts (processing's seed), by unit and role."""

    def __init__(self, accounts: list[dict[str, Any]]) -> None:
        self.by_role: dict[tuple[str, str], list[Staff]] = {}
        for account in accounts:
            staff = Staff(
                account["user_id"], account["name"], frozenset(account["roles"]), frozenset(account["units"])
            )
            for unit in account["units"]:
                for role in account["roles"]:
                    self.by_role.setdefault((unit, role), []).append(staff)

    def one(self, rng: random.Random, unit: str, role: str) -> Staff:
        found = self.by_role.get((unit, role))
        if not found:
            raise LookupError(f"no demo {role} in unit {unit}")
        return rng.choice(found)

    def leader_name(self, unit: str) -> str:
        return self.by_role[(unit, Roles.LEADER)][0].name


class Planner:
    """Dossiers and the steps each takes, from the catalogue, the calendar and a seeded random."""

    def __init__(self, platform: Platform, rng: random.Random, now: datetime) -> None:
        from processing.service.calendar import FIRST_YEAR, LAST_YEAR, calendar_for

        self.platform, self.rng, self.now = platform, rng, now
        start = now - timedelta(days=WINDOW_DAYS + 40)
        self.calendar = calendar_for(
            platform.processing_db, max(FIRST_YEAR, start.year), min(LAST_YEAR, now.year + 1)
        )
        self.staffing = platform.staffing
        # The first returned dossiers are late, on time and early: a small demo shows each.
        self.timings = ["late", "on_time", "early"]
        self.procedures = {code: platform.procedure(code) for code in KINDS}

    # time --------------------------------------------------------------------------------------

    def work(self, start: datetime, hours: float) -> datetime:
        from processing import deadlines

        return deadlines.add_working_time(self.calendar, start, timedelta(hours=hours))

    def span(self, start: datetime, end: datetime) -> float:
        from processing import deadlines

        return deadlines.working_time_between(self.calendar, start, end).total_seconds() / 3600

    def due(self, procedure: str, received: datetime) -> datetime:
        from processing import deadlines
        from processing.service.calendar import legal_time

        return deadlines.due_at(self.calendar, received, legal_time(self.procedures[procedure]))

    def filing_time(self, days_ago: float, channel: str) -> datetime:
        from processing import deadlines

        day = (self.now - timedelta(days=days_ago)).astimezone(deadlines.TZ).date()
        if channel == "online":
            # Online filings come at any hour of any day, mostly in the daytime and evening.
            hour = self.rng.choice([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22])
            moment = datetime(
                day.year, day.month, day.day, hour, self.rng.randint(0, 59), tzinfo=deadlines.TZ
            )
        else:
            moment = datetime(day.year, day.month, day.day, 7, 0, tzinfo=deadlines.TZ)
            moment = self.work(moment, self.rng.uniform(0.1, 7.5))
        return moment.replace(second=self.rng.randint(0, 59)).astimezone(UTC)

    # dossiers ----------------------------------------------------------------------------------

    def fates(self, count: int) -> list[str]:
        names = [*FATES, "returned", "returned"]
        chosen = names[:count]
        chosen += self.rng.choices(list(FATES), weights=list(FATES.values()), k=max(0, count - len(names)))
        return chosen

    def dossiers(self, count: int) -> list[Dossier]:
        planned = []
        for index, fate in enumerate(self.fates(count)):
            for _attempt in range(8):
                dossier = self.dossier(index, fate)
                if dossier is not None:
                    planned.append(dossier)
                    break
        # Filed in time order, so each unit's daily numbers follow the clock.
        return sorted(planned, key=lambda d: d.submitted_at)

    def procedure_for(self, fate: str) -> str:
        codes = [
            code
            for code in KINDS
            if (fate not in RETURNED or self.resolved_where_received(code))
            and (fate not in (*ONLINE_ONLY, "supplement_requested") or self.online(code))
        ]
        return self.rng.choices(codes, weights=[KINDS[c].weight for c in codes])[0]

    def online(self, code: str) -> bool:
        return self.procedures[code].get("online_mode") != "counter_only"

    def resolved_where_received(self, code: str) -> bool:
        procedure = self.procedures[code]
        return set(procedure["receiving_units"]) <= set(procedure["resolving_units"])

    def dossier(self, index: int, fate: str) -> Dossier | None:
        rng = self.rng
        code = self.procedure_for(fate)
        procedure = self.procedures[code]
        receiving = procedure["receiving_units"]
        # The town of Thứa and the district's centre file most; every commune some.
        unit = rng.choices(receiving, weights=[4 if u in ("09496", "264.MC") else 1 for u in receiving])[0]
        if fate in ONLINE_ONLY:
            channel = "online"
        elif not self.online(code):
            channel = "counter"
        else:
            channel = "online" if rng.random() < 0.55 else "counter"
        if fate in RECENT:
            low, high = RECENT[fate]
            days_ago = rng.uniform(low, high)
        else:
            days_ago = rng.uniform(3, WINDOW_DAYS)
        submitted = self.filing_time(days_ago, channel)
        if submitted >= self.now - timedelta(minutes=20):
            return None
        dossier = Dossier(
            index=index,
            fate=fate,
            procedure=code,
            unit=unit,
            channel=channel,
            submitted_at=submitted,
            body=self.filing(code, unit, channel, submitted),
            counter=self.staffing.one(rng, unit, Roles.RECEPTIONIST) if channel == "counter" else None,
            result_title=KINDS[code].result,
            timing=self.timings[0] if fate == "returned" and self.timings else "",
        )
        try:
            dossier.steps = self.steps(dossier)
        except _TooLate:
            return None
        if dossier.timing:
            self.timings.pop(0)
        return dossier

    def filing(self, code: str, unit: str, channel: str, submitted: datetime) -> dict[str, Any]:
        from processing import deadlines

        rng = self.rng
        applicant = person(rng)
        unit_name = self.platform.unit_names[unit]
        home_unit = (
            unit
            if unit[0].isdigit()
            else rng.choice([u for u in self.platform.unit_names if u.startswith("09")])
        )
        commune = self.platform.unit_names[home_unit].removeprefix("Ủy ban nhân dân ")
        address = f"{rng.choice(VILLAGES).capitalize()}, {commune}, huyện Lương Tài, tỉnh Bắc Ninh"
        filing = Filing(
            rng, applicant, unit_name, commune, address, submitted.astimezone(deadlines.TZ).date()
        )
        email = None
        if rng.random() < (0.85 if channel == "online" else 0.35):
            email = f"{fold(applicant.given)}.{fold(applicant.family)}{rng.randint(1, 999)}@example.com"
        if channel == "online":
            method = rng.choices(["online", "post", "counter"], weights=[5, 3, 2])[0]
        else:
            method = rng.choices(["counter", "post"], weights=[7, 3])[0]
        return {
            "procedure_code": code,
            "unit": unit,
            "channel": channel,
            "applicant": {
                "full_name": applicant.name,
                "id_number": cccd(rng, applicant),
                "date_of_birth": applicant.born.isoformat(),
                "phone": phone(rng),
                "email": email,
                "address": address,
            },
            "delivery": {"method": method, "address": address if method == "post" else None},
            "form": KINDS[code].form(filing),
            "documents": [],  # the uploads, when filed
        }

    def steps(self, d: Dossier) -> list[Step]:
        """The dossier's steps after its filing, each after the one before and all before now."""
        rng, staffing = self.rng, self.staffing
        procedure = self.procedures[d.procedure]
        office = procedure["resolving_units"][0] if not self.resolved_where_received(d.procedure) else d.unit
        counter = d.counter or staffing.one(rng, d.unit, Roles.RECEPTIONIST)
        leader = staffing.one(rng, office, Roles.LEADER)
        specialist = staffing.one(rng, office, Roles.SPECIALIST)
        steps: list[Step] = []
        t = d.submitted_at

        def add(
            at: datetime,
            kind: str,
            action: str = "",
            body: dict[str, Any] | None = None,
            staff: Staff | None = None,
        ) -> None:
            if at >= self.now - timedelta(minutes=5):
                raise _TooLate
            first_act = kind == "act" and not any(s.kind == "act" for s in steps)
            needs = "arrived" if first_act else ""
            if kind == "act" and steps and steps[-1].kind == "supplement":
                needs = "caught_up"
            if kind == "supplement":
                needs = "open"
            if kind == "withdraw":
                # Once intake has what processing did: a withdrawal it took before processing's
                # acceptance reached it would be overwritten by that acceptance.
                needs = "synced"
            if kind == "rate":
                needs = "returned"
            steps.append(Step(at, kind, action, body or {}, staff, needs))

        def act(at: datetime, action: str, staff: Staff, **body: Any) -> datetime:
            add(at, "act", action, body, staff)
            return at

        def supplement(at: datetime) -> datetime:
            add(at, "supplement", body={"note": "Tôi xin gửi bổ sung giấy tờ theo yêu cầu."})
            return at

        def ask(at: datetime, staff: Staff) -> datetime:
            reason, wanted = rng.choice(SUPPLEMENT_REASONS)
            return act(
                at,
                "request_supplement",
                staff,
                missing=[{"document": wanted, "reason": reason}],
                reason=reason,
            )

        fate = d.fate
        if fate == "submitted":
            return steps
        if d.channel == "online":
            t = self.work(t, rng.uniform(0.3, 5))
            if fate == "refused":
                act(t, "refuse", counter, reasons=[rng.choice(REFUSALS)])
                return steps
            if fate == "supplement_requested" and rng.random() < 0.5:
                ask(t, counter)
                return steps
            if fate == "withdrawn" and rng.random() < 0.3:
                add(t, "withdraw", body={"reason": rng.choice(WITHDRAWALS)})
                return steps
            if fate == "returned_after_supplement" and rng.random() < 0.5:
                ask(t, counter)
                t = supplement(t + timedelta(hours=rng.uniform(10, 70)))
                t = self.work(t, rng.uniform(0.3, 3))
            act(t, "accept", counter, note="Hồ sơ đầy đủ, hợp lệ.")
            received = t
        else:
            received = t  # a counter filing is accepted on arrival
        due = self.due(d.procedure, received)
        if fate == "accepted":
            return steps
        if fate == "withdrawn":
            add(self.work(t, rng.uniform(1, 12)), "withdraw", body={"reason": rng.choice(WITHDRAWALS)})
            return steps
        if office != d.unit:
            t = act(
                self.work(t, rng.uniform(0.2, 2)),
                "transfer",
                counter,
                to_unit=office,
                note="Chuyển phòng chuyên môn thẩm định, giải quyết.",
            )
        t = act(
            self.work(t, rng.uniform(0.1, 1.5)),
            "assign",
            leader,
            assignee=specialist.user_id,
            note="Đề nghị đồng chí thẩm định, giải quyết đúng hạn.",
        )
        if fate == "in_progress":
            return steps
        if fate in ("supplement_requested", "stopped") or (
            fate == "returned_after_supplement" and not any(s.action == "request_supplement" for s in steps)
        ):
            asked = ask(self.work(t, rng.uniform(0.5, 4)), specialist)
            if fate == "supplement_requested":
                return steps
            if fate == "stopped":
                act(
                    asked + timedelta(days=rng.uniform(16, 25)),
                    "stop",
                    leader,
                    reason="Quá thời hạn mà người nộp không bổ sung hồ sơ theo yêu cầu.",
                )
                return steps
            back = supplement(asked + timedelta(hours=rng.uniform(20, 90)))
            from processing import deadlines

            due = deadlines.shift_by_pause(self.calendar, due, asked, back)
            t = back
        if fate == "returned_after_extension":
            extended_due = self.work(due, rng.uniform(8, 24))
            t = act(
                self.work(t, 0.5),
                "extend",
                leader,
                reason="Cần xác minh thêm thông tin với cơ quan liên quan.",
                new_due_at=extended_due,
            )
            due = extended_due
        # When the office resolves it: mostly early, some on the day it is due, some late.
        roll = {"late": 0.0, "on_time": 0.2, "early": 0.9}.get(d.timing, rng.random())
        left = max(0.5, self.span(t, due))
        if roll < 0.14 and fate in RETURNED:
            end = self.work(due, rng.uniform(1, 20))
        elif roll < 0.3:
            # On the day it is due, shortly before the time.
            end = max(self.work(due, -rng.uniform(0.05, 0.5)), self.work(t, 0.3))
        else:
            end = self.work(t, left * rng.uniform(0.25, 0.7))
        hours = max(0.4, self.span(t, end))
        t = act(
            self.work(t, hours * 0.55),
            "propose",
            specialist,
            note="Hồ sơ đủ điều kiện, đề nghị lãnh đạo phê duyệt.",
        )
        if fate == "awaiting_approval":
            return steps
        if fate == "rejected":
            act(self.work(t, hours * 0.2), "reject", leader, reason=rng.choice(REJECTIONS))
            return steps
        t = act(self.work(t, hours * 0.15), "approve", leader, note="Đồng ý.")
        if fate == "approved":
            return steps
        t = act(self.work(t, hours * 0.15), "issue_result", leader)
        if fate == "result_ready":
            return steps
        method = d.body["delivery"]["method"]
        t = act(max(end, self.work(t, 0.1)), "return_result", counter, method=method)
        if rng.random() < 0.45:
            rating = rng.choices(["very_satisfied", "satisfied", "dissatisfied"], weights=[6, 3, 1])[0]
            at = t + timedelta(hours=rng.uniform(1, 60))
            if at < self.now - timedelta(minutes=5):
                add(at, "rate", body={"levels": dict.fromkeys(RATING_CRITERIA, rating)})
        return steps


RATING_CRITERIA = ("overall", "timeliness", "attitude", "convenience")


class Interrupted(Exception):
    """Seeding was asked to stop."""


class _TooLate(Exception):
    """A step would fall after now: the plan is made again with another filing time."""


# -- the platform -----------------------------------------------------------------------------------


@dataclass
class Platform:
    """What the seeder works with: each service's own store and files (through its own code), and
    the portal's and intake's HTTP APIs."""

    intake_db: Db
    intake_blobs: BlobStore
    processing_db: Db
    processing_blobs: BlobStore
    signing: Any  # processing.service.results.ResultSigning
    portal_db: Db
    portal_url: str
    intake_url: str
    editor: dict[str, str]
    staffing: Staffing
    unit_names: dict[str, str]
    stop: Callable[[], bool] = lambda: False

    def check_stop(self) -> None:
        if self.stop():
            raise Interrupted("stopped before the demo data was complete")

    def procedure(self, code: str) -> dict[str, Any]:
        from processing import store
        from processing.service.catalogue import PROCEDURES

        found = store.get_reference(self.processing_db, PROCEDURES.collection, code)
        if found is None:
            raise RuntimeError(f"processing has no procedure {code}: was the catalogue seeded?")
        return found

    def close(self) -> None:
        for db in (self.intake_db, self.processing_db, self.portal_db):
            db.client.close()


def connect(env: Mapping[str, str], ports: Mapping[str, int], private_key: Path | None = None) -> Platform:
    import json

    from intake.config import load_config as intake_config
    from intake.store import connect as intake_connect
    from portal.config import load_config as portal_config
    from portal.store import connect as portal_connect
    from processing import store as processing_store
    from processing.config import load_config as processing_config
    from processing.service.results import ResultSigning

    intake = intake_config(environ=env)
    processing = processing_config(auth=False, environ=env)
    portal = portal_config(environ=env)
    processing_blobs = open_blob_store(processing.blob_url)
    accounts = json.loads(STAFF_SEED.read_text(encoding="utf-8"))["items"]
    units = json.loads((STAFF_SEED.parent / "units.json").read_text(encoding="utf-8"))
    unit_names = {u["code"]: u["name"] for u in units}
    editor_units = sorted({item["unit"] for item in (*demo_content.ARTICLES, *demo_content.DOCUMENTS)})
    token = issue_token(
        [Roles.EDITOR],
        editor_units,
        user_id="bientap.264",
        name="Ban biên tập Cổng thông tin huyện Lương Tài",
        private_key=private_key or ensure_keypair()[0],
    )
    return Platform(
        intake_db=intake_connect(intake),
        intake_blobs=open_blob_store(intake.blob_url),
        processing_db=processing_store.connect(processing),
        processing_blobs=processing_blobs,
        signing=ResultSigning(
            processing_blobs, processing.signing_certs_dir, processing.result_attach_max_bytes
        ),
        portal_db=portal_connect(portal),
        portal_url=api_url("portal", ports),
        intake_url=api_url("intake", ports),
        editor={"Authorization": f"Bearer {token}"},
        staffing=Staffing(accounts),
        unit_names=unit_names,
    )


# -- PDFs -------------------------------------------------------------------------------------------


def _fonts() -> tuple[str, str]:
    import fontpkg_be_vietnam_pro
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = f"{FONT}-Regular", f"{FONT}-Bold"
    if regular not in pdfmetrics.getRegisteredFontNames():
        root = Path(fontpkg_be_vietnam_pro.ROOT) / "files"
        pdfmetrics.registerFont(TTFont(regular, str(root / "BeVietnamPro-Regular.ttf")))
        pdfmetrics.registerFont(TTFont(bold, str(root / "BeVietnamPro-Bold.ttf")))
    return regular, bold


def paper(
    heading: tuple[str, str], title: str, lines: list[str], signature: tuple[str, str] | None = None
) -> bytes:
    """A one-page A4 paper: the issuing body and the national motto, a title, paragraphs, a signature."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    regular, bold = _fonts()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    page.setTitle(title)
    width, height = A4
    left, right = 60, width - 60
    page.setFont(regular, 10)
    page.drawCentredString(150, height - 60, heading[0].upper())
    page.setFont(bold, 10)
    page.drawCentredString(150, height - 74, heading[1].upper())
    page.drawCentredString(width - 170, height - 60, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    page.drawCentredString(width - 170, height - 74, "Độc lập - Tự do - Hạnh phúc")
    y = height - 130
    page.setFont(bold, 13)
    for part in simpleSplit(title, bold, 13, right - left):
        page.drawCentredString(width / 2, y, part)
        y -= 18
    y -= 10
    page.setFont(regular, 11)
    for line in lines:
        for part in simpleSplit(line, regular, 11, right - left):
            if y < 120:
                break
            page.drawString(left, y, part)
            y -= 15
        y -= 5
    if signature:
        page.setFont(bold, 11)
        page.drawCentredString(width - 150, max(y - 20, 90), signature[0].upper())
        page.drawCentredString(width - 150, max(y - 90, 40), signature[1])
    page.showPage()
    page.save()
    return buffer.getvalue()


@cache
def scan(document: str, procedure: str) -> bytes:
    """A filed document: a tờ khai or the copy of a paper, as applicants send it (one per kind of
    document: the demo's many dossiers share them)."""
    return paper(("", ""), document[:160], ["Bản chụp giấy tờ nộp kèm hồ sơ.", f"Thủ tục: {procedure}."])


# -- seeding ----------------------------------------------------------------------------------------


@dataclass
class Summary:
    skipped: bool = False
    articles: int = 0
    documents: int = 0
    dossiers: int = 0
    states: Counter[str] = field(default_factory=Counter)
    rated: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    codes: list[str] = field(default_factory=list)


def already_seeded(platform: Platform) -> bool:
    """Whether the demo's last article (published after the other articles and documents, before
    the dossiers) is at the portal."""
    marker = demo_content.ARTICLES[-1]
    found = _find(platform, "articles", marker["unit"], marker["title"])
    return found is not None and found["status"] == "published"


def seed(
    env: Mapping[str, str],
    ports: Mapping[str, int],
    *,
    dossiers: int = DEFAULT_DOSSIERS,
    random_seed: int = DEFAULT_SEED,
    progress: bool = True,
    force: bool = False,
    private_key: Path | None = None,
    timeout: float = 900.0,
    stop: Callable[[], bool] | None = None,
) -> Summary:
    """Seed the demo district on a running platform (once: see `already_seeded`). `stop`, asked
    between steps, ends it early (Interrupted)."""
    started = time.monotonic()
    platform = connect(env, ports, private_key)
    platform.stop = stop or (lambda: False)
    try:
        wait_for_catalogue(platform, timeout=min(timeout, 180))
        if not force and already_seeded(platform):
            return Summary(skipped=True)
        now = datetime.now(UTC).replace(microsecond=0)
        rng = random.Random(random_seed)
        planned = Planner(platform, rng, now).dossiers(dossiers)
        content = len(demo_content.ARTICLES) + len(demo_content.DOCUMENTS)
        total = len(planned) + sum(len(d.steps) for d in planned) + len(planned) + content
        with tqdm(total=total, desc="Dữ liệu mẫu", unit="bước", disable=not progress, leave=True) as bar:
            summary = Summary()
            # The content first, while the portal's worker has little to do.
            bar.set_postfix_str("tin bài, văn bản")
            publish_content(platform, now, bar, summary)
            bar.set_postfix_str("nộp hồ sơ")
            file_all(platform, planned, bar, summary)
            bar.set_postfix_str("xử lý hồ sơ")
            work_all(platform, planned, bar, summary, deadline=time.monotonic() + timeout)
            bar.set_postfix_str("chờ cổng thông tin")
            wait_for_portal(platform, planned, bar, deadline=time.monotonic() + timeout)
        summary.dossiers = sum(1 for d in planned if d.code)
        summary.codes = [d.code for d in planned if d.code]
        summary.states = final_states(platform, planned)
        summary.rated = sum(1 for d in planned for s in d.steps[: d.done] if s.kind == "rate")
        summary.seconds = time.monotonic() - started
        return summary
    finally:
        platform.close()


def wait_for_catalogue(platform: Platform, timeout: float) -> None:
    """Intake learns the catalogue from processing's events: wait until it offers every procedure."""
    deadline = time.monotonic() + timeout
    missing = set(KINDS)
    while True:
        for code in sorted(missing):
            try:
                if (
                    requests.get(f"{platform.intake_url}/api/v1/procedures/{code}", timeout=10).status_code
                    == 200
                ):
                    missing.discard(code)
            except requests.RequestException:
                pass
        if not missing:
            return
        platform.check_stop()
        if time.monotonic() > deadline:
            raise TimeoutError(f"intake does not offer {', '.join(sorted(missing))} yet")
        time.sleep(1)


@contextmanager
def _step_errors(dossier: Dossier, what: str, summary: Summary) -> Iterator[None]:
    """A step the services refuse fails its dossier (reported), not the seeding; a store or broker
    that is down does."""
    try:
        yield
    except (PyMongoError, requests.RequestException):
        raise
    except Exception as exc:
        detail = getattr(exc, "errors", None) or str(exc)
        dossier.failed = f"{what}: {type(exc).__name__}: {detail}"
        summary.failures.append(f"{dossier.code or dossier.index} {dossier.failed}")
        log.warning("demo dossier %s: %s", dossier.code or dossier.index, dossier.failed)


def upload(platform: Platform, data: bytes) -> str:
    from intake.service import uploads

    return str(uploads.save(platform.intake_db, platform.intake_blobs, data, UPLOAD_MAX_BYTES)["id"])


def file_all(platform: Platform, planned: list[Dossier], bar: tqdm, summary: Summary) -> None:
    from intake.schemas import FilingSchema
    from intake.service import Conflict
    from intake.service import dossiers as intake_dossiers

    schema = FilingSchema()
    for d in planned:
        platform.check_stop()
        procedure = platform.procedure(d.procedure)
        d.body["documents"] = [
            {"type": doc["code"], "upload_id": upload(platform, scan(doc["name"], d.procedure))}
            for doc in procedure.get("documents", [])
            if doc.get("mandatory")
        ]
        key = f"{KEY_PREFIX}-{d.index:05d}-{d.submitted_at:%y%m%d%H%M%S}"
        with _step_errors(d, "file", summary):
            try:
                answer = intake_dossiers.file(
                    platform.intake_db,
                    schema.load(d.body),
                    body_hash=intake_dossiers.request_hash(d.body),
                    idempotency_key=key,
                    staff=d.counter,
                    now=d.submitted_at,
                )
                d.code, d.secret = answer.body["code"], answer.body["lookup_secret"]
            except Conflict:
                # Filed by an earlier run that stopped half-way: left as that run left it.
                pass
        bar.update(1)
        if not d.code:
            bar.update(len(d.steps))
            d.steps = []


def _observe(platform: Platform, pending: list[Dossier]) -> dict[str, dict[str, Any]]:
    """What the services hold of the dossiers whose next step waits for something (read only)."""
    from portal.store import DOSSIERS as PORTAL_DOSSIERS

    needs: dict[str, list[str]] = {}
    for d in pending:
        needs.setdefault(d.steps[d.done].needs, []).append(d.code)
    seen: dict[str, dict[str, Any]] = {}
    if codes := needs.get("arrived", []) + needs.get("caught_up", []) + needs.get("synced", []):
        found = platform.processing_db.dossiers.find(
            {"_id": {"$in": codes}}, {"intake_sequence": 1, "sequence": 1}
        )
        for doc in found:
            held = seen.setdefault(doc["_id"], {})
            held["intake_sequence"] = doc.get("intake_sequence") or 0
            held["sequence"] = doc.get("sequence") or 0
    if codes := needs.get("open", []) + needs.get("synced", []):
        found = platform.intake_db.dossiers.find(
            {"_id": {"$in": codes}}, {"supplement_open": 1, "processing_sequence": 1}
        )
        for doc in found:
            held = seen.setdefault(doc["_id"], {})
            held["open"] = bool(doc.get("supplement_open"))
            held["intake_processing_sequence"] = doc.get("processing_sequence") or 0
    if codes := needs.get("returned", []):
        for doc in platform.portal_db[PORTAL_DOSSIERS].find({"_id": {"$in": codes}}, {"processing_state": 1}):
            seen.setdefault(doc["_id"], {})["state"] = doc.get("processing_state")
    return seen


def _ready(d: Dossier, step: Step, seen: dict[str, dict[str, Any]]) -> bool:
    held = seen.get(d.code, {})
    if step.needs == "arrived":
        return "intake_sequence" in held
    if step.needs == "caught_up":
        return int(held.get("intake_sequence") or 0) >= d.intake_sequence
    if step.needs == "open":
        return bool(held.get("open"))
    if step.needs == "synced":
        return "sequence" in held and held.get("intake_processing_sequence", -1) >= held["sequence"]
    if step.needs == "returned":
        return held.get("state") == "returned"
    return True


def work_all(
    platform: Platform, planned: list[Dossier], bar: tqdm, summary: Summary, deadline: float
) -> None:
    """Every dossier's steps in its order; a step that waits for another service's worker waits
    while the others go on (each round looks at every waiting dossier at once)."""
    pending = [d for d in planned if d.code and d.steps]
    while pending:
        platform.check_stop()
        seen = _observe(platform, pending)
        moved = False
        for d in pending:
            first = True
            while d.done < len(d.steps) and not d.failed:
                step = d.steps[d.done]
                # What was seen tells only about the round's first step: a later one that waits
                # for a worker (to follow what this round did) waits for the next round.
                ready = _ready(d, step, seen) if first else not step.needs
                if not ready:
                    break
                first = False
                with _step_errors(d, step.action or step.kind, summary):
                    take(platform, d, step)
                    d.done += 1
                    bar.update(1)
                    moved = True
        for d in pending:
            if d.failed:
                bar.update(len(d.steps) - d.done)
        pending = [d for d in pending if d.done < len(d.steps) and not d.failed]
        if pending and not moved:
            if time.monotonic() > deadline:
                for d in pending:
                    summary.failures.append(f"{d.code} waited too long for: {d.steps[d.done].needs}")
                return
            time.sleep(0.3)


def take(platform: Platform, d: Dossier, step: Step) -> None:
    from intake.service import dossiers as intake_dossiers
    from portal import store as portal_store
    from portal.service import ratings
    from processing import store as processing_store
    from processing.service import dossiers as processing_dossiers
    from processing.service import results
    from processing.workflow import NotAllowed

    if step.kind == "supplement":
        procedure = platform.procedure(d.procedure)
        document = procedure["documents"][0]
        upload_id = upload(platform, scan(document["name"], d.procedure))
        intake_dossiers.supplement(
            platform.intake_db,
            d.code,
            {
                **step.body,
                "lookup_secret": d.secret,
                "documents": [{"type": document["code"], "upload_id": upload_id}],
            },
            staff=None,
            now=step.at,
        )
        d.intake_sequence += 1
        return
    if step.kind == "withdraw":
        intake_dossiers.withdraw(
            platform.intake_db, d.code, {**step.body, "lookup_secret": d.secret}, staff=None, now=step.at
        )
        d.intake_sequence += 1
        return
    if step.kind == "rate":
        doc = portal_store.get_dossier(platform.portal_db, d.code)
        if doc is not None and ratings.may_rate(doc):
            ratings.rate(platform.portal_db, doc, ratings.check_levels(step.body["levels"]), now=step.at)
        return
    assert step.staff is not None
    body = dict(step.body)
    if step.action == "issue_result":
        unit = processing_store.get_dossier(platform.processing_db, d.code)["unit"]
        draft = result_paper(platform, d, unit, step.at)
        saved = results.save(
            platform.processing_db,
            platform.processing_blobs,
            draft,
            UPLOAD_MAX_BYTES,
            step.staff,
            unit=unit,
            now=step.at,
        )
        body["upload_id"] = saved["id"]
    for attempt in range(4):
        try:
            processing_dossiers.perform(
                platform.processing_db,
                d.code,
                step.action,
                body,
                step.staff,
                now=step.at,
                results=platform.signing,
            )
            return
        except NotAllowed:
            # The deadline watch marked the dossier meanwhile: read it again and act.
            if attempt == 3:
                raise
            time.sleep(0.1)


def result_paper(platform: Platform, d: Dossier, unit: str, at: datetime) -> bytes:
    from processing import deadlines

    day = at.astimezone(deadlines.TZ)
    name = platform.unit_names.get(unit, unit)
    parent = "UBND huyện Lương Tài"
    lines = [
        f"Lương Tài, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}",
        f"Cấp cho: {d.body['applicant']['full_name']}",
        f"Địa chỉ: {d.body['applicant']['address']}",
        f"Hồ sơ số: {d.code}",
        *(f"{key}: {value}" for key, value in list(d.body["form"].items())[:4]),
    ]
    return paper(
        (parent, name.removeprefix("Ủy ban nhân dân ")),
        d.result_title.upper(),
        lines,
        ("Thủ trưởng đơn vị", platform.staffing.leader_name(unit)),
    )


def wait_for_portal(platform: Platform, planned: list[Dossier], bar: tqdm, deadline: float) -> None:
    """Until the portal's status of every dossier has what processing and intake did (its statistics
    follow from it)."""
    from portal.store import DOSSIERS as PORTAL_DOSSIERS

    codes = [d.code for d in planned if d.code]
    wanted: dict[str, tuple[int, int]] = {}
    for doc in platform.processing_db.dossiers.find({"_id": {"$in": codes}}, {"sequence": 1}):
        wanted[doc["_id"]] = (int(doc.get("sequence") or 0), 0)
    for doc in platform.intake_db.dossiers.find({"_id": {"$in": codes}}, {"sequence": 1}):
        wanted[doc["_id"]] = (wanted.get(doc["_id"], (0, 0))[0], int(doc.get("sequence") or 0))
    bar.update(len(planned) - len(codes))
    while wanted:
        platform.check_stop()
        found = platform.portal_db[PORTAL_DOSSIERS].find(
            {"_id": {"$in": list(wanted)}}, {"processing_sequence": 1, "intake_sequence": 1}
        )
        for doc in found:
            processing, intake = wanted[doc["_id"]]
            if (
                int(doc.get("processing_sequence") or 0) >= processing
                and int(doc.get("intake_sequence") or 0) >= intake
            ):
                del wanted[doc["_id"]]
                bar.update(1)
        if wanted:
            if time.monotonic() > deadline:
                log.warning("the portal has not caught up with %d demo dossiers", len(wanted))
                bar.update(len(wanted))
                return
            time.sleep(0.5)


def final_states(platform: Platform, planned: list[Dossier]) -> Counter[str]:
    codes = [d.code for d in planned if d.code]
    states: Counter[str] = Counter()
    for doc in platform.processing_db.dossiers.find({"_id": {"$in": codes}}, {"state": 1}):
        states[doc["state"]] += 1
    return states


# -- articles and directive documents ----------------------------------------------------------------


def _dated(text: str, day: date) -> str:
    return text.replace("{nam}", str(day.year)).replace("{thang}", str(day.month))


def publish_content(platform: Platform, now: datetime, bar: tqdm, summary: Summary) -> None:
    """The articles and documents through the editor API (draft → review → published); the oldest
    first, the marker article last. One found by its title is taken on from where it is (a run
    stopped half-way), and left alone once published."""
    from processing import deadlines

    today = now.astimezone(deadlines.TZ).date()
    documents: dict[int, str] = {}
    for index, item in enumerate(demo_content.DOCUMENTS):
        platform.check_stop()
        day = today - timedelta(days=item["days_ago"])
        document, created = _document(platform, item, day, documents)
        documents[index] = str(document["id"])
        summary.documents += created
        bar.update(1)
    for item in demo_content.ARTICLES:
        platform.check_stop()
        day = today - timedelta(days=item["days_ago"])
        body = {
            "title": item["title"],
            "summary": _dated(item["summary"], day),
            "body": _dated(item["body"], day),
            "category": item["category"],
            "tags": item["tags"],
            "unit": item["unit"],
        }
        _article, created = _published(platform, "articles", item["title"], body)
        summary.articles += created
        bar.update(1)


def _document(
    platform: Platform, item: dict[str, Any], day: date, published: dict[int, str]
) -> tuple[dict[str, Any], bool]:
    unit = item["unit"]
    issuer = platform.unit_names[unit]
    signer = platform.staffing.leader_name(unit)
    summary = _dated(item["summary"], day)
    body = {
        "number": item["number"],
        "doc_type": item["doc_type"],
        "issuer": issuer,
        "signer": signer,
        "issued_on": day.isoformat(),
        "effective_on": day.isoformat(),
        "legal_status": item.get("legal_status", "in_force"),
        "summary": summary,
        "unit": unit,
    }
    if "replaces" in item and item["replaces"] in published:
        body["replaces"] = [published[item["replaces"]]]
    heading = (
        "UBND tỉnh Bắc Ninh" if unit.startswith("264") else "UBND huyện Lương Tài",
        issuer.removeprefix("Ủy ban nhân dân "),
    )
    lines = [
        f"Số: {item['number']}",
        f"Lương Tài, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}",
        "",
        *(
            line.replace("{summary}", summary).replace("{unit}", issuer)
            for line in demo_content.DOCUMENT_BODIES[item["doc_type"]]
        ),
    ]
    pdf = paper(heading, f"{item['doc_type'].upper()} – {summary}", lines, ("TM. Ủy ban nhân dân", signer))
    title = f"{item['doc_type']} số {item['number']}"
    return _published(platform, "documents", title, body, pdf)


def _published(
    platform: Platform, kind: str, title: str, body: dict[str, Any], pdf: bytes | None = None
) -> tuple[dict[str, Any], bool]:
    """The item of `title` published (created first when there is none); whether it was created.

    Each answer the API could not give (the store busy: 503) is met by reading the item again and
    going on from its state, so a write that did happen is not made twice."""
    found = _find(platform, kind, body["unit"], title)
    created = found is None
    for _attempt in range(30):
        if found is None:
            answer = _send(platform, "post", f"/api/v1/{kind}", json=body)
            found = answer if answer is not None else _find(platform, kind, body["unit"], title)
            continue
        path = f"/api/v1/{kind}/{found['id']}"
        status, version = found["status"], found["version"]
        if status == "published":
            return found, created
        if pdf is not None and not found.get("pdf"):
            headers = {"If-Match": f'"{version}"', "Content-Type": "application/pdf"}
            answer = _send(platform, "put", f"{path}/pdf", data=pdf, headers=headers)
        else:
            step = "review" if status in ("draft", "unpublished") else "published"
            if status == "unpublished":
                step = "draft"
            answer = _send(platform, "post", f"{path}/status", json={"status": step, "version": version})
        found = answer if answer is not None else _send(platform, "get", path)
    raise RuntimeError(f"the portal did not publish {title!r}")


def _find(platform: Platform, kind: str, unit: str, title: str) -> dict[str, Any] | None:
    return _items(platform, kind, unit).get(title)


def _items(platform: Platform, kind: str, unit: str) -> dict[str, dict[str, Any]]:
    """The unit's items by title (the editor API, every status)."""
    items: dict[str, dict[str, Any]] = {}
    for page in range(1, 20):
        answer = None
        for _attempt in range(10):
            answer = _send(
                platform, "get", f"/api/v1/{kind}", params={"unit": unit, "page": page, "page_size": 100}
            )
            if answer is not None:
                break
        if answer is None:
            raise RuntimeError(f"the portal does not list the {kind} of {unit}")
        items |= {item["title"]: item for item in answer["items"]}
        if len(answer["items"]) < 100:
            break
    return items


def _send(
    platform: Platform, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    """The JSON answer; None (after a pause) when the portal could not answer now (5xx, a stale
    version, no answer): the caller reads the state again."""
    try:
        answer = requests.request(
            method,
            f"{platform.portal_url}{path}",
            headers={**platform.editor, **(headers or {})},
            timeout=60,
            **kwargs,
        )
    except (requests.ConnectionError, requests.Timeout):
        time.sleep(2)
        return None
    if answer.status_code >= 500 or answer.status_code == 409:
        time.sleep(2)
        return None
    if answer.status_code >= 400:
        raise RuntimeError(f"{method.upper()} {path}: {answer.status_code} {answer.text[:500]}")
    return answer.json()


def report(summary: Summary) -> str:
    if summary.skipped:
        return "Demo data: seeded already (the portal has the demo's articles); nothing added."
    states = ", ".join(f"{state} {count}" for state, count in sorted(summary.states.items()))
    lines = [
        f"Demo data: {summary.dossiers} dossiers ({states}), {summary.rated} ratings, "
        f"{summary.articles} articles, {summary.documents} documents in {summary.seconds:.0f} s."
    ]
    if summary.failures:
        lines.append(f"  {len(summary.failures)} steps failed, e.g.: " + "; ".join(summary.failures[:3]))
    return "\n".join(lines)


def seed_on_start(env: Mapping[str, str], ports: Mapping[str, int], stop: Callable[[], bool]) -> None:
    """`make run`'s call once the services are ready: DEMO_DOSSIERS dossiers (default 300; 0 seeds
    nothing); a failure is reported and the platform keeps running."""
    raw = os.environ.get("DEMO_DOSSIERS", str(DEFAULT_DOSSIERS)).strip()
    if not raw.isdigit():
        print(f"DEMO_DOSSIERS must be a number of dossiers, not {raw!r}: no demo data", file=sys.stderr)
        return
    if int(raw) == 0:
        return
    try:
        summary = seed(env, ports, dossiers=int(raw), stop=stop)
    except Interrupted:
        print("Demo data: stopped before it was complete.", file=sys.stderr, flush=True)
        return
    except Exception as exc:  # the platform is up: say what failed and keep it running
        log.exception("demo data")
        print(f"Demo data could not be seeded: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return
    print(report(summary), flush=True)
