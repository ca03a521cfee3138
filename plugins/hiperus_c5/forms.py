"""The Hiperus panel's forms (Flask-WTF, so every one carries the frame's CSRF token).

Labels are English message keys; templates pass them through the frame's ``_`` (Polish first). Select
choices that come from the mirror (price lists, subscriptions, terminals, end users, emergency
locations) are filled by the view before validation, so a value the mirror does not know is refused
before the platform is asked. Choices are ``SelectChoice`` objects: WTForms 3.3 deprecates
``(value, label)`` tuples and 3.4 drops them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError


def select_choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """``(value, label)`` pairs, as the mirror's queries give them, as a select's options."""
    return [SelectChoice(value, label) for value, label in pairs]


def choice_labels(choices: Sequence[SelectChoice]) -> dict[Any, str]:
    """Option value -> label, e.g. the terminal name the platform wants beside the chosen id."""
    return {c.value: c.label for c in choices}


INVOICE_NAMES = {"0": "nobody", "1": "Hiperus", "2": "LMS"}
"""``hv_customers.invoice`` -> who issues the invoices (an English message key)."""
INVOICE_CHOICES = select_choices(INVOICE_NAMES.items())
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
"""A plausible address; the platform checks it for real (wtforms' Email needs another package)."""


def _email() -> Regexp:
    return Regexp(EMAIL, message="Invalid email address.")


PAYMENT_CHOICES = [SelectChoice("postpaid"), SelectChoice("prepaid")]


def _optional_int(value: Any) -> int | None:
    if value in (None, "", "0", 0):
        return None
    return int(value)


def _day(form: Any, field: Any) -> None:
    """``YYYY-MM-DD`` or the PHP forms' ``YYYY/MM/DD``; stored normalised (spec §7 bug 10)."""
    raw = (field.data or "").strip()
    if not raw:
        field.data = None
        return
    try:
        field.data = datetime.strptime(raw.replace("/", "-"), "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise ValidationError("Not a date (YYYY-MM-DD).") from None


class AccountForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=255)])
    email = StringField("E-mail", validators=[Optional(), _email(), Length(max=255)])
    address = StringField("Street", validators=[Length(max=255)])
    street_number = StringField("House number", validators=[Length(max=10)])
    apartment_number = StringField("Flat number", validators=[Length(max=10)])
    postcode = StringField("Postcode", validators=[Length(max=10)])
    city = StringField("City", validators=[Length(max=255)])
    country = StringField("Country", default="Polska", validators=[Length(max=255)])
    b_name = StringField("Billing name", validators=[Length(max=255)])
    b_address = StringField("Billing street", validators=[Length(max=255)])
    b_street_number = StringField("Billing house number", validators=[Length(max=255)])
    b_apartment_number = StringField("Billing flat number", validators=[Length(max=10)])
    b_postcode = StringField("Billing postcode", validators=[Length(max=10)])
    b_city = StringField("Billing city", validators=[Length(max=255)])
    b_country = StringField("Billing country", default="Polska", validators=[Length(max=255)])
    b_nip = StringField("NIP", validators=[Length(max=50)])
    b_regon = StringField("REGON / PESEL", validators=[Length(max=50)])
    ext_billing_id = IntegerField("LMS customer ID", validators=[Optional(), NumberRange(min=1)])
    invoice_choice = SelectField("Invoices issued by", choices=INVOICE_CHOICES, default="0")
    id_default_pricelist = SelectField("Default price list", choices=[], coerce=_optional_int, validate_choice=False)
    payment_type = SelectField("Payment", choices=PAYMENT_CHOICES, default="postpaid")
    active = BooleanField("Active", default=True)
    is_wlr = BooleanField("WLR")
    consent_data_processing = BooleanField("Consent to data processing")

    def __init__(self, *args: Any, force_relationship: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.force_relationship = force_relationship

    def validate_ext_billing_id(self, field: Any) -> None:
        if field.data is None and self.force_relationship:
            raise ValidationError("The account must be linked to an LMS customer (hiperus_c5.force_relationship).")

    def validate_invoice_choice(self, field: Any) -> None:
        if field.data == "2" and not self.ext_billing_id.data:
            raise ValidationError("The VoIP account must be linked to an LMS customer to be invoiced by LMS.")

    def platform_values(self) -> dict[str, Any]:
        names = [
            "name", "email", "address", "street_number", "apartment_number", "postcode", "city", "country",
            "b_name", "b_address", "b_street_number", "b_apartment_number", "b_postcode", "b_city", "b_country",
            "b_nip", "b_regon", "ext_billing_id", "id_default_pricelist", "payment_type", "active", "is_wlr",
            "consent_data_processing",
        ]  # fmt: skip
        return {n: getattr(self, n).data for n in names}


class LinkForm(FlaskForm):
    customer_id = IntegerField("LMS customer ID", validators=[Optional(), NumberRange(min=1)])


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


class TerminalForm(FlaskForm):
    username = StringField(
        "SIP login",
        validators=[
            InputRequired(),
            Length(max=100),
            Regexp(r"^[A-Za-z0-9_.@+-]+$", message="Letters, digits, _ . @ + - only."),
        ],
    )
    password = StringField("SIP password", validators=[InputRequired(), Length(min=6, max=100)])
    id_pricelist = SelectField("Price list", choices=[], coerce=int)
    id_subscription = SelectField("Subscription", choices=[], coerce=_optional_int)
    subscription_from = StringField("Subscription from", validators=[_day])
    subscription_to = StringField("Subscription to", validators=[_day])
    screen_numbers = BooleanField("Screen numbers", default=True)
    t38_fax = BooleanField("T.38 fax")
    id_terminal_location = SelectField("Emergency location", choices=[], coerce=_optional_int)
    no_location = BooleanField("No emergency location")
    location = StringField("Installation address", validators=[Length(max=255)])

    def validate_id_terminal_location(self, field: Any) -> None:
        if field.data is None and not self.no_location.data:
            raise ValidationError("Choose the emergency location, or tick that there is none.")

    def validate_subscription_to(self, field: Any) -> None:
        if field.data and self.subscription_from.data and field.data < self.subscription_from.data:
            raise ValidationError("The end is before the start.")


class NumberForm(FlaskForm):
    number = StringField("Number", validators=[Optional(), Regexp(r"^\d{5,15}$", message="Digits only.")])
    country_code = StringField("Country code", default="48", validators=[InputRequired(), Regexp(r"^\d{1,3}$")])
    id_terminal = SelectField("Terminal", choices=[], coerce=int)
    is_main = BooleanField("Main number", default=True)
    clir = BooleanField("CLIR (hide the number)")
    virtual_fax = BooleanField("Virtual fax")
    disa_enabled = BooleanField("DISA")
    voicemail_enabled = BooleanField("Voicemail", default=True)
    id_auth = SelectField("End user", choices=[], coerce=_optional_int)
    useremail = StringField("New end user's e-mail", validators=[Optional(), _email(), Length(max=255)])
    userpassword = PasswordField("New end user's password", validators=[Optional(), Length(min=6, max=255)])

    def validate_userpassword(self, field: Any) -> None:
        if self.useremail.data and not field.data:
            raise ValidationError("A new end user needs a password.")


class RangeUsageForm(FlaskForm):
    enabled = BooleanField("Offer numbers from this range")
