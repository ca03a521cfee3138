"""The fault matrix's fixture (one world per provider and database kind, see ``fault_worlds``) and the
table printed at the end of the run (provider x fault -> survived / not applicable / FAILED).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fault_matrix import FAULTS, RESULTS, Declaration
from fault_worlds import DECLARATIONS, World, build


@pytest.fixture(scope="session")
def worlds(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator:
    built: dict[tuple[str, str], World] = {}
    root = tmp_path_factory.mktemp("faults")

    def get(decl: Declaration, kind: str) -> World:
        key = (decl.plugin, kind)
        if key not in built:
            built[key] = build(decl, kind, root, request)
        return built[key]

    yield get
    for world in built.values():
        world.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """The matrix as a table at the end of ``make test`` (only when the tier ran)."""
    if not RESULTS:
        return
    plugins = [d.plugin for d in DECLARATIONS]
    width = max(len(f) for f in FAULTS) + 2
    terminalreporter.write_sep("=", "fault matrix (provider x fault)")
    for (name, what), value in sorted(RESULTS.items()):
        if what == "declared":
            terminalreporter.write_line(f"{name}: {value} (add tests/faults/providers/{name}.py)")
    terminalreporter.write_line("fault".ljust(width) + "".join(p.ljust(18) for p in plugins))
    for fault in FAULTS:
        cells = [RESULTS.get((p, fault), "not run").ljust(18) for p in plugins]
        terminalreporter.write_line(fault.ljust(width) + "".join(cells))
