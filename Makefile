# The two set-up commands of the README. Both work on a fresh machine.
.PHONY: demo test bench

.venv/bin/lmsplugins: pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install -q --disable-pip-version-check -e .
	touch $@

demo: .venv/bin/lmsplugins
	.venv/bin/lmsplugins demo

test:
	scripts/test

bench: .venv/bin/lmsplugins
	.venv/bin/python bench/cdr_write.py
