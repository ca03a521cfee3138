"""The Hiperus forms' select options as ``SelectChoice``: the same HTML, coercion and validation as the
``(value, label)`` tuples they replace, and no WTForms deprecation warning (3.4 drops tuple choices)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from plugins.hiperus_c5.forms import AccountForm, NumberForm, choice_labels, select_choices


@pytest.fixture(autouse=True)
def request_context() -> Iterator[None]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        yield


def test_account_form_renders_the_fixed_options_without_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        form = AccountForm(formdata=None)
        invoice, payment = str(form.invoice_choice()), str(form.payment_type())
    assert invoice == (
        '<select id="invoice_choice" name="invoice_choice"><option selected value="0">nobody</option>'
        '<option value="1">Hiperus</option><option value="2">LMS</option></select>'
    )
    assert payment == (
        '<select id="payment_type" name="payment_type"><option selected value="postpaid">postpaid</option>'
        '<option value="prepaid">prepaid</option></select>'
    )


def test_account_form_accepts_listed_values_and_refuses_others() -> None:
    good = AccountForm(formdata=MultiDict({"name": "n", "invoice_choice": "1", "payment_type": "prepaid"}))
    assert good.validate(), good.errors
    assert (good.invoice_choice.data, good.payment_type.data) == ("1", "prepaid")
    bad = AccountForm(formdata=MultiDict({"name": "n", "invoice_choice": "9", "payment_type": "x"}))
    assert not bad.validate()
    assert set(bad.errors) == {"invoice_choice", "payment_type"}


def test_mirror_pairs_become_options_coerced_to_int_and_named_back() -> None:
    form = NumberForm(formdata=MultiDict({"country_code": "48", "id_terminal": "7", "id_auth": "0"}))
    form.id_terminal.choices = select_choices([(3, "alfa"), (7, "beta")])
    form.id_auth.choices = select_choices([(0, "—"), (5, "a@b.pl")])
    assert form.validate(), form.errors
    assert form.id_terminal.data == 7 and form.id_auth.data is None
    assert choice_labels(form.id_terminal.choices) == {3: "alfa", 7: "beta"}
    assert '<option selected value="7">beta</option>' in str(form.id_terminal())

    unknown = NumberForm(formdata=MultiDict({"country_code": "48", "id_terminal": "8"}))
    unknown.id_terminal.choices = select_choices([(3, "alfa"), (7, "beta")])
    unknown.id_auth.choices = select_choices([(0, "—")])
    assert not unknown.validate() and "id_terminal" in unknown.errors
