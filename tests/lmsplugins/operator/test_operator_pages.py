"""The administrator's pages: start page (jobs and attention items), job list and detail, /metrics,
and the settings page's connection-test button, with every time in LMS's zone."""

from __future__ import annotations

import io
import re
import time

import pytest

from lmsplugins.host import Host
from lmsplugins.jobs import Output, run_job
from lmsplugins.plugin import AttentionItem, CheckStep, Plugin, Setting
from lmsplugins.store import job_runs
from lmsplugins.testing.web import log_in, user_with
from lmsplugins.web import create_app

DAY = 86400


def _attention(host, conn):
    return [
        AttentionItem("Widgets not bound", 7, endpoint="core.customers", params={"q": "widget"}),
        AttentionItem("Nothing here", 0, endpoint="core.customers"),
        AttentionItem("Secret admin thing", 2, url="/x", permission="lmsplugins_admin", severity="info"),
    ]


def _broken_attention(host, conn):
    raise RuntimeError("no such table")


def _connection_test(host):
    yield CheckStep("logged in to the widget API", detail="as op")
    yield CheckStep("read the widgets", detail="3 widget(s), password s3cr3t-pw")


WIDGETS = Plugin(
    name="widgets", title="Widgets", lms_class="LMSWidgetsPlugin", version="1",
    settings=[Setting("widgets.api_url", "str", default="")], attention=_attention, connection_test=_connection_test,
    counter_labels={"bound": "Widgets bound"},
)  # fmt: skip
BROKEN = Plugin(
    name="broken_att", title="Broken", lms_class="LMSBrokenAtt", version="1",
    settings=[Setting("broken_att.url", "str", default="")], attention=_broken_attention,
)  # fmt: skip


@pytest.fixture
def host(sqlite_host: Host) -> Host:
    sqlite_host.set_uiconfig("lmsplugins.plugins", "Nothing")
    sqlite_host.set_uiconfig("lmsplugins.secret_key", "s3cr3t-pw")
    registry = sqlite_host.registry
    registry.found += [WIDGETS, BROKEN]
    registry.enabled += [WIDGETS, BROKEN]
    return sqlite_host


@pytest.fixture
def app(host):
    return create_app(host, TESTING=True, USER_CACHE_SECONDS=0, SLEEP=lambda _s: None)


def add_run(host, job, started, status="done", took=30, counters="{}"):
    with host.engine.begin() as conn:
        conn.execute(job_runs.insert().values(
            job=job, status=status, test=0, started=int(started), finished=int(started + took),
            counters=counters, message="", argv="", host="h", pid=1,
        ))  # fmt: skip


def text(response) -> str:
    return response.get_data(as_text=True)


def test_start_page_shows_jobs_per_plugin_and_what_needs_attention(host, app):
    now = time.time()
    for i in range(5):
        add_run(host, "widgets.sync", now - 30 * 3600 - i * DAY)
    add_run(host, "notify.block", now - 600, status="failed")
    page = text(log_in(app).get("/"))
    assert "<h3>Widgets</h3>" in page and "<h3>lmsplugins</h3>" in page
    row = re.search(r'<tr class="status-done overdue">.*?</tr>', page, re.S).group(0)
    assert "widgets.sync" in row and "daily" in row and "overdue: no success for more than 1 d 2 h" in row
    items = re.search(r'<ul class="attention" id="attention">(.*?)</ul>', page, re.S).group(1)
    assert re.search(r'href="/customers\?q=widget">Widgets not bound</a>:\s*<strong class="count">7<', items)
    assert "Nothing here" not in items
    assert re.search(r'href="/admin/jobs/6">Jobs whose latest run failed</a>:\s*<strong class="count">1<', items)
    assert 'Jobs without a success in their usual period</a>:\n    <strong class="count">1<' in items
    assert 'Plugins whose start-page items failed</a>:\n    <strong class="count">1<' in items
    assert "Secret admin thing" in items


def test_start_page_names_a_plugin_whose_jobs_never_ran(host, app):
    import click

    quiet = Plugin(
        name="quiet", title="Quiet plugin", lms_class="LMSQuietPlugin", version="1", cli=lambda: click.Group("quiet")
    )
    host.registry.found.append(quiet)
    host.registry.enabled.append(quiet)
    page = text(log_in(app).get("/"))
    assert re.search(r"<h3>Quiet plugin</h3>\s*<p class=\"hint\">No runs recorded yet.</p>", page)
    assert "<h3>Widgets</h3>" not in page


def test_start_page_for_a_user_without_admin_rights(host, app):
    add_run(host, "notify.block", time.time() - 600, status="failed")
    page = text(user_with(app, host, "clerk", "customer_management").get("/"))
    assert "Widgets not bound" in page
    assert "Secret admin thing" not in page and "Jobs whose latest run failed" not in page and "<h3>" not in page


def test_job_list_and_detail_in_lms_time_zone_with_output(host, app):
    def body(job):
        job.info("fetched 3 widgets")
        job.count("bound", 3)
        job.count("odd_things", 1)

    argv = ["widgets", "sync", "--password", "hunter22"]
    assert run_job(host, "widgets.sync", body, argv=argv, output=Output(quiet=True, out=io.StringIO())) == 0
    with host.engine.begin() as conn:
        conn.execute(job_runs.update().values(started=1798761600, finished=1798761725))
    client = log_in(app)
    page = text(client.get("/admin/jobs"))
    assert "Times in Europe/Warsaw (C" in page
    assert '<a href="/admin/jobs/1">widgets.sync</a>' in page and "2027-01-01 01:00:00" in page
    assert "2 min 5 s" in page
    detail = text(client.get("/admin/jobs/1"))
    assert "2027-01-01 01:00:00 CET" in detail and "2027-01-01 01:02:05 CET" in detail
    assert "<code>lmsplugins widgets sync --password ***</code>" in detail and "hunter22" not in detail
    assert '<th title="bound">Widgets bound</th><td class="num">3</td>' in detail
    assert '<th title="odd_things">Odd things</th>' in detail
    assert "fetched 3 widgets" in detail and "widgets.sync: done in" in detail
    assert re.search(r"<th>Exit code</th><td>0</td>", detail)
    assert client.get("/admin/jobs/999").status_code == 404
    assert user_with(app, host, "clerk", "customer_management").get("/admin/jobs/1").status_code == 403


def test_metrics_for_allowed_addresses_only(host, app):
    add_run(host, "widgets.sync", 1798761600, took=42, counters='{"bound": 3}')
    client = app.test_client()
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain; version=0.0.4")
    body = text(response)
    assert 'lmsplugins_job_last_success_timestamp_seconds{job="widgets.sync"} 1798761642' in body
    assert 'lmsplugins_job_last_duration_seconds{job="widgets.sync"} 42' in body
    assert 'lmsplugins_job_last_status{job="widgets.sync",status="done"} 1' in body
    assert 'lmsplugins_job_last_status{job="widgets.sync",status="failed"} 0' in body
    assert 'lmsplugins_job_counter{job="widgets.sync",counter="bound"} 3' in body
    assert "# TYPE lmsplugins_job_overdue gauge" in body
    outsider = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert outsider.status_code == 403 and "lmsplugins.metrics_allow" in text(outsider)
    host.set_uiconfig("lmsplugins.metrics_allow", "10.0.0.0/8")
    app2 = create_app(host, TESTING=True)
    assert app2.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert app2.test_client().get("/metrics").status_code == 403


def test_connection_test_button_flashes_what_worked_without_secrets(host, app):
    client = log_in(app)
    page = text(client.get("/admin/settings"))
    assert 'id="test-widgets"' in page and 'id="test-broken_att"' not in page
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post("/admin/settings/widgets/test", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/settings#section-widgets")
    page = text(client.get("/admin/settings"))
    assert "Widgets: OK: logged in to the widget API (as op)" in page
    assert "3 widget(s), password ***" in page and "s3cr3t-pw" not in page
    assert "Widgets: the connection works" in page
    assert client.post("/admin/settings/widgets/test", data={}).status_code == 400
    assert client.post("/admin/settings/broken_att/test", data={"csrf_token": token}).status_code == 404


def test_polish_start_page_and_job_detail(host, app):
    add_run(host, "notify.block", time.time() - 600, status="failed")
    client = log_in(app, language="pl")
    page = text(client.get("/"))
    assert "Wymaga uwagi" in page and "Zadania, których ostatnie uruchomienie się nie powiodło" in page
    assert "Czas w strefie Europe/Warsaw (" in page and "<td>z błędami</td>" in page
    detail = text(client.get("/admin/jobs/1"))
    assert "Kod wyjścia" in detail and "Dla tego uruchomienia nie zachowano wydruku." in detail


def test_metrics_when_the_database_fails_is_503(host, app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from lmsplugins.web import views_status

    def down(_host):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(views_status, "job_health", down)
    response = app.test_client().get("/metrics")
    assert response.status_code == 503 and "cannot be read" in text(response)


def test_start_page_counts_a_plugin_enabled_but_not_installed_without_asking_it(host, app):
    asked: list[str] = []

    def attention(_host, _conn):
        asked.append("asked")
        return [AttentionItem("Pending rows", 3, endpoint="core.customers")]

    pending = Plugin(name="pending", title="Pending", lms_class="LMSPendingPlugin", version="1",
                     db_version="2026120100", attention=attention)  # fmt: skip
    host.registry.found.append(pending)
    host.registry.enabled.append(pending)
    page = text(log_in(app).get("/"))
    items = re.search(r'<ul class="attention" id="attention">(.*?)</ul>', page, re.S).group(1)
    shown = items.replace("&#39;", "'")
    assert re.search(r"but not installed: run 'lmsplugins db upgrade'</a>:\s*<strong class=\"count\">1<", shown)
    assert asked == [] and "Pending rows" not in items
