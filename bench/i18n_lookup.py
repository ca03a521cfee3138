"""Benchmark: what the catalogue's patterns cost a Polish page.

A Polish lookup that finds no exact entry tries every pattern (catalogue keys with ``{fields}``)
before giving up, so the cost of a miss grows with the number of patterns, and a job's message
joined with "; " is tried part by part. Measured, with the host's and every plugin's texts loaded,
``--repeat`` rounds of ``--n`` lookups each (median microseconds per lookup printed):

- ``exact``: a text with an exact entry (the baseline: a dict look-up);
- ``miss``: a text nobody translates (a customer's name passed through ``_``);
- ``job message``: a Hiperus invoice failure (one pattern);
- ``joined message``: the demo's Metroport MVNO orphan warning, five samples joined with "; ";
- ``job list``: 50 such messages, one job list page's worth, in milliseconds.

The ratio is median / the exact lookup's median. Uncached (``i18n._lookup``), as the first
view of a text costs; the last line is the same job list served from the lookup cache.

    python bench/i18n_lookup.py [--n 2000 --repeat 7]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import statistics
import time

import plugins
from lmsplugins.web import i18n

ORPHANS = (
    "450 billing record(s) not imported: their number has no LMS account of Metroport MVNO for the customer "
    "(run --accounts first?), e.g. "
    + "; ".join(f"#7056{i:04d} 48510000111 -> internet (ano 510000111)" for i in range(5))
)
INVOICE = (
    "account 1011 (Kowalski Katarzyna) is set to LMS invoicing but is not linked to an existing LMS customer "
    "(ext_billing_id=None); not invoiced: 143.10 zł"
)
CASES = {
    "exact": "Nothing saved: correct the marked fields.",
    "miss": "Katarzyna Kowalska-Wiśniewska",
    "job message": INVOICE,
    "joined message": ORPHANS,
}


def load() -> int:
    import lmsplugins.web.status_messages  # noqa: F401

    names = [info.name for info in pkgutil.iter_modules(plugins.__path__)]
    for name in names:
        for module in ("views", "operator"):
            with contextlib.suppress(ImportError):
                importlib.import_module(f"plugins.{name}.{module}")
    i18n.add_plugin_messages(names)
    return len(i18n._patterns("pl"))


def per_lookup(text: str, n: int, repeat: int, cached: bool = False) -> float:
    lookup = i18n.lookup if cached else i18n._lookup
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(n):
            lookup(text, "pl")
        times.append((time.perf_counter() - started) / n)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    patterns = load()
    assert i18n.lookup(ORPHANS, "pl") is not None and i18n.lookup(INVOICE, "pl") is not None
    print(f"{patterns} patterns in the Polish catalogue")
    base = per_lookup(CASES["exact"], args.n, args.repeat)
    for name, text in CASES.items():
        micro = base if name == "exact" else per_lookup(text, args.n, args.repeat)
        print(f"{name:15s} {micro:9.2f} µs per lookup   ratio {micro / base:8.1f}")
    page = per_lookup(ORPHANS, max(1, args.n // 50), args.repeat) * 50 / 1000
    print(f"{'job list':15s} {page:9.2f} ms for 50 joined messages, first view")
    again = per_lookup(ORPHANS, args.n, args.repeat, cached=True) * 50 / 1000
    print(f"{'job list':15s} {again:9.3f} ms for 50 joined messages, from the lookup cache")


if __name__ == "__main__":
    main()
