"""The administrator's views of how things run: start page, job detail, ``/metrics``, connection tests.

Routes live on the host's ``core`` and ``admin`` blueprints (endpoints ``core.index``,
``core.metrics``, ``admin.job``, ``admin.connection_test``); they are in a module of their own so the
login and settings code of those blueprints stays apart from the monitoring code.

``/metrics`` speaks the Prometheus text format (0.0.4) and needs no login, as a scraper has none: it
answers only addresses in ``lmsplugins.metrics_allow`` (default: loopback), 403 to anyone else. It
shows job names, times and counts, never a message or a customer.

Every time shown is in LMS's time zone (:mod:`lmsplugins.timefmt`), named on the page.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy.exc import SQLAlchemyError

from lmsplugins.conntest import run_connection_test
from lmsplugins.jobs import run_detail
from lmsplugins.jobstatus import JobHealth, job_health
from lmsplugins.timefmt import format_span, format_time, lms_zone, zone_label
from lmsplugins.web import status_messages  # noqa: F401  (registers the Polish texts)
from lmsplugins.web.auth import in_address_list
from lmsplugins.web.context import (
    add_breadcrumb,
    current_host,
    current_user,
    gettext,
    has_permission,
    read_engine,
    require_permission,
    web_state,
)
from lmsplugins.web.machine import client_address, public
from lmsplugins.web.rights import ADMIN
from lmsplugins.web.startpage import attention, job_groups
from lmsplugins.web.views_admin import CsrfForm
from lmsplugins.web.views_admin import blueprint as admin
from lmsplugins.web.views_core import blueprint as core

METRICS_ALLOW = "lmsplugins.metrics_allow"
METRICS_ALLOW_DEFAULT = "127.0.0.1 ::1"
STATUSES = ("running", "done", "failed", "error")


@core.app_template_filter("lmstime")
def lmstime(ts: int | float | None, with_zone: bool = False) -> str:
    """``{{ run.started|lmstime }}``: a unix time in LMS's time zone."""
    return format_time(ts, lms_zone(current_host()), with_zone=with_zone)


@core.app_template_filter("span")
def span(seconds: int | float | None) -> str:
    return format_span(seconds)


def _has_connection_test(name: str) -> bool:
    plugin = current_host().registry.get(name)
    return plugin is not None and plugin.connection_test is not None


@core.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "lms_zone_label": lambda: zone_label(lms_zone(current_host())),
        "has_connection_test": _has_connection_test,
        "counter_label": counter_label,
    }


def start_page() -> Any:
    """Jobs of each enabled plugin with their health (administrators), then what needs a human."""
    web = web_state()
    user = current_user()
    assert user is not None
    now = time.time()
    groups = job_groups(web) if has_permission(ADMIN) else []
    items = attention(web, read_engine(), user, groups, now)
    return render_template("index.html", groups=groups, attention_items=items, now=now)


def counter_label(job: str, name: str) -> str:
    """A counter's label for people: the owning plugin's ``counter_labels``, else the name spelled out."""
    plugin = current_host().registry.get(job.split(".", 1)[0])
    label = (plugin.counter_labels.get(name) if plugin is not None else None) or name.replace("_", " ").capitalize()
    return gettext(label)


@admin.route("/jobs/<int:run_id>")
def job(run_id: int) -> Any:
    """One run: status, times, exit code, counters with labels, the command line (masked) and its output."""
    require_permission(ADMIN)
    run = run_detail(current_host(), run_id)
    if run is None:
        abort(404)
    counters = [(name, counter_label(run["job"], name), value) for name, value in sorted(run["counters"].items())]
    add_breadcrumb(gettext("Administration"))
    add_breadcrumb(gettext("Job runs"), url_for("admin.jobs"))
    add_breadcrumb(f"#{run['id']} {run['job']}")
    duration = run["finished"] - run["started"] if run["finished"] else None
    return render_template("admin_job.html", run=run, counters=counters, duration=duration)


@admin.route("/settings/<name>/test", methods=["POST"])
def connection_test(name: str) -> Any:
    """The settings page's "Test connection" button: the saved settings, one login, one harmless read."""
    require_permission(ADMIN)
    form = CsrfForm()
    if not form.validate_on_submit():
        abort(400)
    host = current_host()
    plugin = host.registry.get(name)
    if plugin is None or plugin.connection_test is None:
        abort(404)
    host.refresh_settings()
    report = run_connection_test(host, plugin)
    for step in report.steps:
        text = gettext(step.what) + (f" ({gettext(step.detail)})" if step.detail else "")
        flash(
            f"{plugin.title}: " + (gettext("OK") if step.ok else gettext("FAILED")) + f": {text}",
            "success" if step.ok else "error",
        )
    verdict = gettext("the connection works") if report.ok else gettext("the connection does not work")
    flash(f"{plugin.title}: {verdict} ({report.seconds:.1f} s)", "success" if report.ok else "error")
    return redirect(url_for("admin.settings") + f"#section-{plugin.name}")


# --------------------------------------------------------------------------------------------------
# /metrics


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        shown = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        number = repr(float(value)) if isinstance(value, float) and not float(value).is_integer() else str(int(value))
        lines.append(f"{name}{{{shown}}} {number}" if shown else f"{name} {number}")
    return lines


def metrics_text(healths: list[JobHealth], plugins_failed: int, now: float) -> str:
    """The exposition: per job its last success, last run, duration, status, period, overdue flag and
    the counters of its latest run."""

    def per_job(attr: Any) -> list[tuple[dict[str, str], float]]:
        return [({"job": h.job}, v) for h in healths if (v := attr(h)) is not None]

    lines: list[str] = []
    lines += _family(
        "lmsplugins_job_last_success_timestamp_seconds",
        "gauge",
        "Unix time the job's latest successful run finished.",
        per_job(lambda h: h.last_success),
    )
    lines += _family(
        "lmsplugins_job_last_run_timestamp_seconds",
        "gauge",
        "Unix time the job's latest run started.",
        per_job(lambda h: h.last_started),
    )
    lines += _family(
        "lmsplugins_job_last_duration_seconds",
        "gauge",
        "Seconds the job's latest finished run took.",
        per_job(lambda h: h.last_duration),
    )
    lines += _family(
        "lmsplugins_job_last_status",
        "gauge",
        "1 for the status of the job's latest run (running, done, failed, error), 0 for the others.",
        [({"job": h.job, "status": s}, int(h.last_status == s)) for h in healths for s in STATUSES],
    )
    lines += _family(
        "lmsplugins_job_period_seconds",
        "gauge",
        "Usual interval between the job's successful runs, learnt from its history.",
        per_job(lambda h: h.period),
    )
    lines += _family(
        "lmsplugins_job_overdue",
        "gauge",
        "1 when the job has not succeeded within its usual period plus grace.",
        [({"job": h.job}, int(h.overdue(now))) for h in healths],
    )
    lines += _family(
        "lmsplugins_job_counter",
        "gauge",
        "Counters of the job's latest run.",
        [({"job": h.job, "counter": k}, v) for h in healths for k, v in sorted(h.last_counters.items())],
    )
    lines += _family(
        "lmsplugins_plugins_failed", "gauge", "Plugins that failed to load (code or web part).", [({}, plugins_failed)]
    )
    return "\n".join(lines) + "\n"


@core.route("/metrics")
@public
def metrics() -> Any:
    host = current_host()
    allowed = host.config().get(METRICS_ALLOW) or METRICS_ALLOW_DEFAULT
    address = client_address()
    if not in_address_list(allowed, address):
        current_app.logger.warning("/metrics refused to %s (not in %s)", address, METRICS_ALLOW)
        return Response(f"forbidden: {address} is not in {METRICS_ALLOW}\n", 403, mimetype="text/plain")
    failed = len(host.registry.failed_named) + len(web_state().web_failures)
    try:
        healths = job_health(host)
    except SQLAlchemyError as exc:
        current_app.logger.error("/metrics: the run records cannot be read: %s", exc)
        return Response("the run records cannot be read; see the server log\n", 503, mimetype="text/plain")
    body = metrics_text(healths, failed, time.time())
    return Response(
        body, 200, content_type="text/plain; version=0.0.4; charset=utf-8", headers={"Cache-Control": "no-store"}
    )
