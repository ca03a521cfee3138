"""Declaration of the UserSide plugin (issue 13; contract in specs/userside_wildcore.md §1, §5, §7).

UserSide's free ``usm_billing`` module pulls a billing's "universal API" from cron and imports
customers, tariffs, addresses, IPs and balances. This plugin makes LMS answer that API at
``/userside/api?key=...&request=...``. It has no tables of its own: everything is read from LMS's core
tables through the host's gateways, and the optional write-back goes through them too.

Every mapping rule that is a choice (where the login and account number come from, which address
types are sent, which tariff types are internet tariffs, which customer fields are additional data,
whether node passwords leave LMS) is a setting here with a default, so an ISP changes behaviour in
``lms.ini`` or ``uiconfig`` section ``userside`` rather than in code.
"""

from __future__ import annotations

from lmsplugins.plugin import MenuEntry, Permission, Plugin, Setting, deferred, deferred_call

ADMIN = "userside_admin"
API_KEY = "userside.api_key"
ALLOWED = "userside.allowed_hosts"


plugin = Plugin(
    name="userside",
    title="UserSide",
    lms_class="LMSUserSidePlugin",
    version="1.0.0",
    description="Serves UserSide's universal billing API (usm_billing imports customers, tariffs, addresses, IPs).",
    settings=[
        Setting(API_KEY, "str", default="", secret=True, description="API key usm_billing sends (?key=); empty: off"),
        Setting(ALLOWED, "str", default="", description="Addresses or networks allowed to call the API; empty: any"),
        Setting("userside.key_label", "str", default="usm_billing", description="Name of the key in audit lines"),
        Setting(
            "userside.login_source",
            "str",
            default="id",
            choices=("id", "node_name", "node_login"),
            description="User login: the customer id, or the first node's name or login (id when none)",
        ),
        Setting(
            "userside.account_number_source",
            "str",
            default="id",
            choices=("id", "bankaccount"),
            description="Account number: the customer id, or the customer's bank-account contact (id when none)",
        ),
        Setting(
            "userside.address_type",
            "str",
            default="default_location",
            choices=("default_location", "all_locations", "billing"),
            description="Addresses sent: the default location (else another location, else the billing address), "
            "every location address (else billing), or the billing address",
        ),
        Setting(
            "userside.tariff_types",
            "list",
            default=["1"],
            description="LMS tariff types sent as UserSide tariffs (1 = internet); other tariffs are services",
        ),
        Setting(
            "userside.additional_data",
            "list",
            default=["ten"],
            description="Customer fields sent as additional data: ten, ssn, regon, rbe, icn, info, altname",
        ),
        Setting(
            "userside.export_password",
            "bool",
            default=False,
            description="Send the first node's password as the user password",
        ),
        Setting(
            "userside.debt_is_nomoney",
            "bool",
            default=True,
            description="A connected customer with a negative balance is in state 'nomoney'",
        ),
        Setting(
            "userside.agreement_fallback",
            "bool",
            default=True,
            description="A customer without a contract document gets one agreement numbered with its id",
        ),
        Setting("userside.timezone", "str", default="Europe/Warsaw", description="Time zone of the dates sent"),
        Setting("userside.chunk_size", "int", default=2500, description="Customers read per batch of queries"),
        Setting(
            "userside.writeback",
            "bool",
            default=False,
            description="Allow change_user_data (comment, balance operations) through the API",
        ),
    ],
    permissions=[Permission(ADMIN, "UserSide: API key, allow-list and request log")],
    blueprint=deferred(f"{__package__}.views:blueprint"),
    menu=[MenuEntry("UserSide API", "userside.admin", permission=ADMIN)],
    demo=deferred_call(f"{__package__}.demo:run_demo"),
)
