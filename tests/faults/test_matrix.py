"""The fault matrix: every declared provider plugin x every fault, one scenario (see ``fault_matrix``).

Each case starts from a copy of the provider's "old" database (a clean run done once) with the
provider's data changed since, runs the job as a real process under the fault, and then checks:
one ``error:`` line and the runner's exit code; each touched table exactly old or exactly new; a
clean re-run converges to exactly the rows of the fault-free reference run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_matrix import (
    FAULTS,
    PROCESS_FAULTS,
    PROVIDER_FAULTS,
    RESULTS,
    Declaration,
    Pause,
    Run,
    checksums,
    finish,
    one_clear_line,
    rows_old_or_new,
    run_job,
    sigkill,
    start_job,
    table_rows,
    terminate_backends,
    wait_no_backends,
)
from fault_worlds import DECLARATIONS, World

from lmsplugins.host import Host
from lmsplugins.jobs import EXIT_FAILURES, EXIT_LOCKED, EXIT_OK, EXIT_USAGE


def _provider_fault(decl: Declaration, world: World, host: Host, ini: Path, fault: str) -> None:
    if fault == "timeout":
        host.set_uiconfig("lmsplugins.http_retry_budget", "1")
    world.provider.inject(fault)
    try:
        run = run_job(ini, world.argv)
    finally:
        world.provider.clear()
        if fault == "timeout":
            host.set_uiconfig("lmsplugins.http_retry_budget", "120")
    one_clear_line(run, (EXIT_OK, EXIT_FAILURES))
    if fault == "timeout":
        assert run.returncode == EXIT_FAILURES, run.describe()


def _paused(world: World, host: Host, ini: Path) -> tuple[Pause, object]:
    decl = world.decl
    pause = Pause(host, decl.pause_table, decl.pause_sql)
    proc = start_job(ini, world.argv)
    _pid, writing = pause.wait_blocked(proc)
    if decl.pause_after_writes:
        assert writing, "the job should be paused inside a transaction that has already written rows"
    return pause, proc


def _sigkill(world: World, host: Host, ini: Path) -> None:
    pause, proc = _paused(world, host, ini)
    sigkill(proc)  # type: ignore[arg-type]
    pause.release()
    host.dispose()  # the test's own idle connection is not the job's
    wait_no_backends(host)
    assert proc.returncode == -9  # type: ignore[attr-defined]


def _db_restart(world: World, host: Host, ini: Path) -> Run:
    pause, proc = _paused(world, host, ini)
    assert terminate_backends(host) >= 2
    host.dispose()  # the test's own pooled connections went too
    pause.release()
    run = finish(proc, world.argv)  # type: ignore[arg-type]
    one_clear_line(run, (EXIT_FAILURES,))
    assert "connection was lost" in run.error_lines[0], run.describe()
    host.dispose()
    wait_no_backends(host)
    return run


def _concurrent(world: World, host: Host, ini: Path) -> None:
    pause, proc = _paused(world, host, ini)
    try:
        second = run_job(ini, world.argv)
    finally:
        pause.release()
    one_clear_line(second, (EXIT_LOCKED,))
    first = finish(proc, world.argv)  # type: ignore[arg-type]
    one_clear_line(first, (EXIT_OK,))


def _refused(run: Run) -> None:
    one_clear_line(run, (EXIT_USAGE,))


# Cells a plugin declares not applicable are not collected as tests (a skip would read as a gap in
# CI's log); the printed matrix still shows them as n/a.
CASES = [
    pytest.param(d.plugin, f, marks=[pytest.mark.postgres] if f in PROCESS_FAULTS else [])
    for d in DECLARATIONS
    for f in FAULTS
    if d.applicable(f)
]
RESULTS.update({(d.plugin, f): "n/a" for d in DECLARATIONS for f in FAULTS if not d.applicable(f)})


@pytest.mark.parametrize(("plugin", "fault"), CASES)
def test_fault(plugin: str, fault: str, worlds, tmp_path: Path) -> None:
    decl = next(d for d in DECLARATIONS if d.plugin == plugin)
    RESULTS[(plugin, fault)] = "FAILED"
    world: World = worlds(decl, "postgres" if fault in PROCESS_FAULTS else "sqlite")
    host, ini = world.clone(tmp_path / "db")
    context = ""
    try:
        if fault in PROVIDER_FAULTS:
            _provider_fault(decl, world, host, ini, fault)
        elif fault == "sigkill_mid_chunk":
            _sigkill(world, host, ini)
        elif fault == "db_restart_mid_run":
            context = _db_restart(world, host, ini).describe()
        elif fault == "concurrent_run":
            _concurrent(world, host, ini)
        elif fault == "bad_cli":
            for argv in decl.bad_cli:
                _refused(run_job(ini, argv))
        elif fault == "bad_csv":
            assert decl.bad_csv is not None
            _refused(run_job(ini, decl.bad_csv(tmp_path)))
        after = checksums(host, decl.tables)
        if fault in ("bad_cli", "bad_csv"):
            assert after == world.old, "refused input must leave every table as it was"
        whole = [t for t in after if t not in decl.committed_in_parts]
        mixed: dict = {t: after[t] for t in whole if after[t] not in (world.old[t], world.new[t])}
        parts = table_rows(host, {t: decl.tables[t] for t in decl.committed_in_parts})
        for t, rows in parts.items():
            stray = rows_old_or_new(rows, world.old_rows[t], world.new_rows[t])
            if stray:
                mixed[t] = (len(stray), stray[:3])
        assert not mixed, f"tables neither old nor new after {fault}: {mixed}\n{context}"
        world.clean_run(ini)
        assert checksums(host, decl.tables) == world.new, "a re-run must converge to the clean run's rows"
        RESULTS[(plugin, fault)] = "survived"
    finally:
        host.dispose()


def test_every_provider_plugin_declares_its_fault_cases() -> None:
    """A provider plugin (one with a simulator) joins the matrix by declaring its cases; one that has not
    yet is listed as NOT DECLARED at the top of the table (see tests/faults/fault_matrix.py)."""
    from lmsplugins.loader import discover

    providers = {
        p.name for p in discover([]).found if getattr(p, "simulator", None) is not None and p.name != "example"
    }  # the example plugin is the template for new plugins, with no provider behind it
    declared = {d.plugin for d in DECLARATIONS}
    assert providers, "no provider plugin found"
    assert {"hiperus_c5", "metroport_mvno"} <= declared
    missing = providers - declared
    for name in sorted(missing):  # shown in the matrix table until the plugin declares its cases
        RESULTS[(name, "declared")] = "NOT DECLARED"


def test_row_judgement_catches_strays_and_duplicates() -> None:
    """The row-by-row check of tables committed in parts: a mix of old and new passes, a row from
    neither or a row twice does not."""
    old, new = ["a", "b"], ["b", "c"]
    assert rows_old_or_new(["a", "b", "c"], old, new) == []
    assert rows_old_or_new(["a", "x"], old, new) == ["x"]
    assert rows_old_or_new(["c", "c"], old, new) == ["c"]
