# Every target works on a fresh machine with Python 3.11 and make: the venv is
# created and filled on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test test-blas demo bench claims browser clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The site's browser tests drive Debian's Chromium (with CJK fonts); install them when missing
# and when this machine can (root with apt-get). Without them those tests skip with a reason.
browser:
	@command -v chromium >/dev/null && dpkg -s fonts-noto-cjk >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } ; } || \
	  echo "make: could not install chromium + fonts-noto-cjk: the browser tests will be skipped"

test: $(STAMP) browser
	$(PY) -m pytest -q -n 2 --dist loadgroup

# `make test` runs everything on NumPy's BLAS; this runs the ops that use the GEMM seam under MKL
# (the mkl wheel of the test extra; they skip with a reason where it cannot load).
test-blas: $(STAMP)
	DEEPNOTES_BLAS=mkl $(PY) -m pytest -q -n 2 tests/backends tests/ops tests/fast tests/nn

# The four pillars in a few minutes: train a model, run a few quick claims and their report,
# answer interview questions from the handbook, write the offline site (with the claims' figures).
demo: $(STAMP)
	$(VENV)/bin/deepnotes train --model mlp --dataset digits --epochs 30 \
		--optimizer adamw --lr 0.003 --batch-size 64 --seed 0 --out runs/demo
	$(VENV)/bin/deepnotes claims run K06 K08 K28 K07 --budget quick --jobs 2 --out runs/claims
	$(VENV)/bin/deepnotes claims report --out runs/claims
	$(VENV)/bin/deepnotes ask "BN和LN的区别是什么" --top 3
	$(VENV)/bin/deepnotes ask "why do sigmoid gradients vanish" --top 3
	$(VENV)/bin/deepnotes site runs/site
	@echo "demo: open runs/claims/index.html and runs/site/index.html"

# Every registered claim at the quick budget (3 seeds, two processes); the HTML report goes to
# runs/claims/ and the verdicts to src/deepnotes/claims/verdicts.json (commit it). Cached seeds are
# reused: add FORCE=--force to run everything again.
claims: $(STAMP)
	$(VENV)/bin/deepnotes claims run --all --budget quick --jobs 2 --out runs/claims --write-verdicts $(FORCE)
	$(VENV)/bin/deepnotes claims report --out runs/claims

# OpenBLAS tuning variables (set on some machines) slow NumPy's kernels: unset them for this command only.
bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(VENV)/bin/deepnotes bench

clean:
	rm -rf $(VENV) runs build *.egg-info src/*.egg-info
