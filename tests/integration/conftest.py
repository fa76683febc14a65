"""Fixtures of the integration tier: services' apps on the real store."""

from __future__ import annotations

import pytest

from processing import create_app as create_processing_app
from processing import store as processing_store
from processing.config import load_config as load_processing_config


@pytest.fixture
def result_signing(tmp_path, signing_certs):
    """Processing's result signing for tests that drive dossiers through the service layer: drafts
    and signed results kept in a folder of the test, signed with the test CA's unit certificates."""
    from eventkit.blobs import open_blob_store
    from processing.service.results import ResultSigning

    return ResultSigning(open_blob_store((tmp_path / "results").as_uri()), str(signing_certs))


@pytest.fixture
def processing_app(service_environ):
    app = create_processing_app(load_processing_config(environ=service_environ))
    processing_store.ensure_indexes(app.extensions["db"])
    return app


@pytest.fixture
def processing_client(processing_app):
    return processing_app.test_client()


@pytest.fixture
def intake_app(service_environ):
    from intake import create_app as create_intake_app
    from intake import store as intake_store
    from intake.config import load_config

    # Tests upload from one address far faster than a citizen; the limit has tests of its own.
    environ = {
        **service_environ,
        "UPLOAD_MAX_BYTES": str(2 * 1024 * 1024),
        "UPLOAD_RATE_LIMIT": "100000/minute",
    }
    app = create_intake_app(load_config(environ=environ))
    intake_store.ensure_indexes(app.extensions["db"])
    return app


@pytest.fixture
def intake_client(intake_app):
    return intake_app.test_client()


@pytest.fixture
def intake_catalogue(intake_app):
    """Intake's projection holding the shipped units and procedures, as their events would leave it."""
    from tests.factories import fill_catalogue_projection

    db = intake_app.extensions["db"]
    fill_catalogue_projection(db)
    return db


# The officers the processing tests assign dossiers to and expect deadline warnings for.
DIRECTORY = [
    {
        "user_id": user_id,
        "name": name,
        "email": f"{user_id}@luongtai.example.vn",
        "roles": [role],
        "units": units,
    }
    for user_id, name, role, units in (
        ("specialist-1", "Nguyễn Văn Một", "specialist", ["09496", "09499", "264", "264.TP"]),
        ("specialist-2", "Trần Thị Hai", "specialist", ["09496", "09499", "264", "264.TP"]),
        ("specialist-tp", "Lê Văn Tư Pháp", "specialist", ["264.TP"]),
        ("leader-1", "Phạm Thị Lãnh Đạo", "leader", ["09496", "09499", "264", "264.TP"]),
        ("leader-tp", "Hoàng Văn Trưởng Phòng", "leader", ["264.TP"]),
    )
]


@pytest.fixture
def directory_staff(mongo_db):
    """The staff directory of the processing tests (`DIRECTORY`), in the test's database."""
    from processing.service import staff

    staff.seed(mongo_db, DIRECTORY, actor="test")
    return DIRECTORY
