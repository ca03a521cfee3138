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

# The CDR write benchmark (PostgreSQL and MariaDB); the others run the same way, `python bench/NAME.py`,
# and each says in one line what it lacks (wrk: apt-get install wrk). gunicorn comes with [deploy].
bench: .venv/bin/lmsplugins
	.venv/bin/pip install -q --disable-pip-version-check -e '.[deploy]'
	.venv/bin/python bench/cdr_write.py
