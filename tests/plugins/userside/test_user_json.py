"""The fast get_user_list text (:func:`plugins.userside.user_json.user_json`, what the API sends) is
byte for byte the json module's encoding of the reference dicts (:func:`mapping.user_element`), on a
dataset with every kind of customer and under every mapping setting that changes the shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reference import fast_and_reference
from userside_data import build

from lmsplugins.testing import databases as dbs

SETTINGS = [
    {},
    {
        "login_source": "node_name",
        "account_number_source": "bankaccount",
        "address_type": "all_locations",
        "additional_data": "ten,ssn,regon,rbe,icn,info,altname",
        "export_password": "1",
        "debt_is_nomoney": "0",
        "agreement_fallback": "0",
    },
    {"login_source": "node_login", "address_type": "billing", "tariff_types": "1,2,3,4,5,6", "chunk_size": "2"},
]


@pytest.mark.parametrize("settings", SETTINGS, ids=["defaults", "every-option", "billing-chunks-of-2"])
def test_fast_text_is_the_reference_encoding(tmp_path: Path, settings: dict[str, str]):
    host = dbs.sqlite_host(tmp_path, seeded=False)
    try:
        ds = build(host)
        for key, value in settings.items():
            host.set_uiconfig(f"userside.{key}", value)
        fast, reference = fast_and_reference(host)
        assert len(json.loads(reference)) == 7
        assert fast == reference
        one, one_reference = fast_and_reference(host, ds["private"])
        assert one == one_reference and list(json.loads(one)) == [str(ds["private"])]
    finally:
        host.dispose()
