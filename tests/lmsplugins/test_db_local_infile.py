"""MariaDB connections refuse the server's requests for client files, except in our own bulk load.

``LOAD DATA LOCAL`` lets the server name the file the client sends; a connection that always
allowed it would give any readable file to a rogue server. The statement below is exactly what
such a server would make us run; the upsert after it proves our own loads still work.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lmsplugins.db import upsert
from lmsplugins.store import state

REFUSED = "refused the server.s request for local file"


def test_server_cannot_read_a_client_file_outside_our_loads(mysql_host, tmp_path):
    secret = tmp_path / "secret.tsv"
    secret.write_text("web.stolen\tpassword=hunter2\t1\n", encoding="utf-8")
    load = f"LOAD DATA LOCAL INFILE '{secret}' INTO TABLE lmsplugins_state (name, value, mtime)"
    with mysql_host.engine.connect() as conn:
        with pytest.raises(Exception, match=REFUSED):
            conn.exec_driver_sql(load)
        conn.rollback()
        assert conn.execute(select(state.c.name).where(state.c.name == "web.stolen")).first() is None
        upsert(conn, state, [("web.ours", "loaded", 1)], key=["name"], columns=["name", "value", "mtime"])
        conn.commit()
        assert conn.execute(select(state.c.value).where(state.c.name == "web.ours")).scalar() == "loaded"
        with pytest.raises(Exception, match=REFUSED):
            conn.exec_driver_sql(load)
