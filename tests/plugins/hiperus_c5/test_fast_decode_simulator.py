"""The simulator's templated CDR rendering must send exactly the bytes of the field-by-field encoder.

``CdrGenerator.rendered`` exists so the benchmark measures the client rather than the simulator; if it
drifted from ``_encode_cdr(record)`` the decoder tests would be checking a different wire format.
"""

from __future__ import annotations

from datetime import date

import pytest

from plugins.hiperus_c5.simulator import CALLTYPES, CdrGenerator, Scale, State, _encode_cdr


@pytest.mark.parametrize("seed, customers, per_day, jitter", [(1, 50, 900, True), (7, 5, 300, False), (3, 1, 40, True)])
@pytest.mark.parametrize("success", [True, False])
@pytest.mark.parametrize("id_customer", [None, 1001, 1003])
def test_rendered_rows_equal_encoded_records(seed, customers, per_day, jitter, success, id_customer):
    gen = CdrGenerator(State(seed, Scale(customers=customers, cdrs_per_day=per_day, cdr_jitter=jitter)))
    args = (date(2024, 3, 30), date(2024, 4, 1), CALLTYPES, success, id_customer)
    for skip in (0, 37):
        expected = [_encode_cdr(r) for r in gen.records(*args, skip=skip)]
        assert list(gen.rendered(*args, skip=skip)) == expected
        assert expected or id_customer is not None


def test_markup_in_names_is_escaped_once_and_percent_survives():
    state = State(1, Scale(customers=30, cdrs_per_day=200))
    name, customer, ext, cid, number = state.cdr_terminals[0]
    state.cdr_terminals[0] = (name + " 100% & <x>", customer + " %s %%", ext, cid, number)
    gen = CdrGenerator(state)
    args = (date(2024, 1, 1), date(2024, 1, 1), CALLTYPES, True, None)
    rendered = list(gen.rendered(*args))
    assert rendered == [_encode_cdr(r) for r in gen.records(*args)]
    assert any("100% &amp; &lt;x&gt;" in row and " %s %%" in row for row in rendered)
