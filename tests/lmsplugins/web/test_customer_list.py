"""The customer list and search gateway on each database: spellings of a surname prefix merged in
order, deep pages, the capped count, billing addresses (one per row), LIKE wildcards taken literally."""

from __future__ import annotations

from sqlalchemy import insert

from lmsplugins.lms import customer_card
from lmsplugins.lms.customer_card import COUNT_CAP, list_customers, parse_search
from lmsplugins.lms.tables import addresses, customer_addresses, customers


def _add(conn, cid: int, lastname: str, name: str = "Jan", deleted: int = 0, **extra) -> None:
    values = {"status": 3, "type": 0, "creationdate": 0, **extra}
    conn.execute(insert(customers).values(id=cid, lastname=lastname, name=name, deleted=deleted, **values))


def _address(conn, aid: int, cid: int, city: str, kind: int = 1) -> None:
    conn.execute(insert(addresses).values(id=aid, city=city, street="Polna", house=str(aid)))
    conn.execute(insert(customer_addresses).values(customer_id=cid, address_id=aid, type=kind))


def test_surname_spellings_are_merged_in_name_order(lms_host):
    with lms_host.engine.begin() as conn:
        _add(conn, 1, "KOWALSKI", "Zofia")
        _add(conn, 2, "Kowalczyk", "Adam")
        _add(conn, 3, "KOWALEWSKA", "Anna")
        _add(conn, 4, "kowal", "Ewa")
        _add(conn, 5, "NOWAK", "Jan")
        _add(conn, 6, "KOWALSKI", "Adam", deleted=1)
    with lms_host.engine.connect() as conn:
        page = list_customers(conn, q="kowal")
        names = [r.name for r in page.rows]
        if conn.dialect.name == "postgresql":
            # Case-sensitive LIKE: each stored spelling is its own range, merged by (lastname, name, id).
            assert names == sorted(names) and set(names) == {
                "KOWALEWSKA Anna",
                "KOWALSKI Zofia",
                "Kowalczyk Adam",
                "kowal Ewa",
            }
        else:
            assert set(names) == {"KOWALEWSKA Anna", "KOWALSKI Zofia", "Kowalczyk Adam", "kowal Ewa"}
        assert page.total == 4 and not page.total_capped and not page.has_next
        assert [r.name for r in list_customers(conn, q="kowalski a").rows] == []
        assert [r.name for r in list_customers(conn, q="kowalski z").rows] == ["KOWALSKI Zofia"]
        assert [r.id for r in list_customers(conn, q="kowal", include_deleted=True).rows].count(6) == 1


def test_pages_of_a_merged_search_follow_each_other(lms_host):
    with lms_host.engine.begin() as conn:
        for i in range(1, 26):
            _add(conn, i, "ZIELIŃSKI" if i % 2 else "Zieliński", f"Imię{i:02d}")
    with lms_host.engine.connect() as conn:
        seen = []
        page_no = 1
        while True:
            page = list_customers(conn, q="zieli", page=page_no, per_page=10)
            seen += [r.id for r in page.rows]
            assert page.total == 25
            if not page.has_next:
                break
            page_no += 1
        assert page_no == 3 and sorted(seen) == list(range(1, 26)) and len(seen) == 25
        beyond = list_customers(conn, q="zieli", page=9, per_page=10)
        assert beyond.rows == [] and beyond.total == 25


def test_deep_pages_and_the_capped_count(lms_host):
    n = COUNT_CAP + 30
    with lms_host.engine.begin() as conn:
        conn.execute(
            insert(customers),
            [
                {"id": i, "lastname": f"NAZWISKO{i:05d}", "name": "X", "status": 3, "type": 0, "creationdate": 0}
                for i in range(1, n + 1)
            ],
        )
    with lms_host.engine.connect() as conn:
        first = list_customers(conn, per_page=20)
        assert first.total_capped and first.total == COUNT_CAP and first.pages is None
        deep = list_customers(conn, page=52, per_page=20)
        assert [r.id for r in deep.rows] == list(range(1021, n + 1)) and not deep.has_next
        by_id = list_customers(conn, page=2, per_page=5, sort="id", desc=True)
        assert [r.id for r in by_id.rows] == list(range(n - 5, n - 10, -1))


def test_one_billing_address_per_row_and_no_duplicates(lms_host):
    with lms_host.engine.begin() as conn:
        _add(conn, 1, "ADAMSKI")
        _add(conn, 2, "BAŃSKI")
        _address(conn, 11, 1, "Kraków")
        _address(conn, 12, 1, "Wrocław")  # a second billing address: LMS allows it
        _address(conn, 13, 2, "Gdańsk", kind=0)  # postal, not billing
    with lms_host.engine.connect() as conn:
        page = list_customers(conn)
    assert [r.id for r in page.rows] == [1, 2]
    assert page.rows[0].address == "Polna 11, Kraków" and page.rows[1].address == ""


def test_wildcards_in_the_search_are_literal(lms_host):
    with lms_host.engine.begin() as conn:
        _add(conn, 1, "A_B")
        _add(conn, 2, "AXB")
        _add(conn, 3, "A%C")
    with lms_host.engine.connect() as conn:
        assert [r.id for r in list_customers(conn, q="a_").rows] == [1]
        assert [r.id for r in list_customers(conn, q="a%").rows] == [3]


def test_digits_search_by_id_nip_and_pesel(lms_host):
    with lms_host.engine.begin() as conn:
        _add(conn, 42, "FIRMA", ten="525-224-84-81", type=1)
        _add(conn, 43, "OSOBA", ssn="44051401359")
    with lms_host.engine.connect() as conn:
        assert [r.id for r in list_customers(conn, q="42").rows] == [42]
        assert [r.id for r in list_customers(conn, q="5252248481").rows] == [42]
        assert [r.id for r in list_customers(conn, q="440514 01359").rows] == [43]


def test_statements_are_built_once_per_shape():
    customer_card._page_statements.cache_clear()
    for q in ("kowal", "nowak", "zieliński", "ab"):
        assert parse_search(q).shape == ("name", 3, False)
    assert parse_search("KOWAL").shape == ("name", 2, False)
    assert parse_search("kowalski jan").values["first"] == "jan%"
