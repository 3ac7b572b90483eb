# Entry points: `make demo` (install, render an example, build a party), `make test`, `make lint`.
#
# Versions, each in one place:
#   requirements.lock  every Python package of .venv (runtime, extras `test` and `lint`, pip, setuptools),
#                      exact and with sha256 hashes; pyproject.toml states the ranges kfplug supports.
#                      `make install` installs exactly it (pip --require-hashes --no-deps), then kfplug
#                      itself (pip install --no-deps -e ., built with the locked setuptools). It is compiled
#                      by uv (UV_VERSION) with
#                        printf 'pip\nsetuptools>=77\n' | uv pip compile pyproject.toml - --extra test \
#                          --extra lint --generate-hashes --python-version $(LOCK_PYTHON_VERSION) -o requirements.lock
#                      `make lock` re-resolves after a change to pyproject.toml, keeping every pin it can;
#                      `make lock UPGRADE=1` takes the newest versions the ranges allow, and
#                      `make lock UPGRADE=<package>` only that package's. Review the diff.
#   versions.env       every other tool: kustomize, Kubernetes, etcd, MariaDB, Python 3.8 and FATE for
#                      tests/app, uv. tests/app/install.sh and tools/k8s/build.sh read it too.
#   go.mod             what each Go tool under tools/ builds from.
include versions.env

PYTHON ?= python3
VENV := .venv
TOOLS := $(abspath .tools/bin)
KUSTOMIZE := $(TOOLS)/kustomize
FLUXBUILD := $(TOOLS)/fluxbuild
FLUXPRUNE := $(TOOLS)/fluxprune
COREDNSCHECK := $(TOOLS)/corednscheck
SOPS := $(TOOLS)/sops
AGE_KEYGEN := $(TOOLS)/age-keygen
UV := .tools/uv-$(UV_VERSION)/bin/uv

.PHONY: demo test lint install lock tools k8s app

demo: install $(KUSTOMIZE)
	$(VENV)/bin/kfplug render examples/two-party/federation.yaml -o out/two-party
	$(VENV)/bin/kfplug secrets init out/two-party
	$(KUSTOMIZE) build out/two-party/overlays/9999

test: install tools app
	PATH="$(TOOLS):$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/python -m pytest

# ruff over all the Python code, mypy (strict) over kfplug; both configured in pyproject.toml
lint: install
	$(VENV)/bin/ruff check kfplug tests benchmarks tools
	$(VENV)/bin/mypy

install: $(VENV)/.installed

# A new venv each time the lock changes, so nothing outside it stays installed. pip goes first, on its own,
# so the pinned pip installs the rest. kfplug is built in pip's isolated build environment (the venv's
# packaging, pinned by checkov, is too old for setuptools>=77) with setuptools as the lock pins it, hash-checked.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)
	awk '/^pip==/ { found = 1 } found { print } found && !/\\$$/ { exit }' requirements.lock > $(VENV)/pip.lock
	$(VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r $(VENV)/pip.lock
	$(VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --no-deps --build-constraint requirements.lock -e .
	$(VENV)/bin/python -m pip check
	touch $@

lock: $(UV)
	printf 'pip\nsetuptools>=77\n' | $(UV) pip compile pyproject.toml - --extra test --extra lint --generate-hashes \
		--python-version $(LOCK_PYTHON_VERSION) --custom-compile-command 'make lock' --quiet \
		$(if $(filter 1,$(UPGRADE)),--upgrade,$(if $(UPGRADE),--upgrade-package $(UPGRADE))) -o requirements.lock

$(UV):
	$(PYTHON) -m venv .tools/uv-$(UV_VERSION)
	.tools/uv-$(UV_VERSION)/bin/python -m pip install --quiet uv==$(UV_VERSION)

tools: $(KUSTOMIZE) $(FLUXBUILD) $(FLUXPRUNE) $(COREDNSCHECK) $(SOPS) $(AGE_KEYGEN) k8s

# tests/app: MariaDB from Debian, and per FATE release a venv with FATE-Flow, FATE-Client and eggroll
# (2.0.0: Python 3.8, .venv-fate200; 2.2.0: Python 3.10, .venv-fate220; versions.env)
app:
	tests/app/install.sh

# kube-apiserver, kube-controller-manager, kube-scheduler (KUBERNETES_VERSION), kwok (KWOK_VERSION) and etcd
# for tests/e2e; builds only what is missing
k8s:
	tools/k8s/build.sh

# rebuilt when versions.env changes; `kustomize version` must then say KUSTOMIZE_VERSION
$(KUSTOMIZE): versions.env
	GOBIN=$(TOOLS) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	test "$$($(KUSTOMIZE) version)" = $(KUSTOMIZE_VERSION)
	touch $@

# SOPS and age-keygen for tests/test_gitops.py (SOPS_VERSION, AGE_VERSION); rebuilt when versions.env changes
$(SOPS): versions.env
	GOBIN=$(TOOLS) go install github.com/getsops/sops/v3/cmd/sops@$(SOPS_VERSION)
	$(SOPS) --version --disable-version-check | grep -q "sops $(SOPS_VERSION:v%=%)"
	touch $@

$(AGE_KEYGEN): versions.env
	GOBIN=$(TOOLS) go install filippo.io/age/cmd/age-keygen@$(AGE_VERSION)
	touch $@

# Flux's kustomize-controller build (fluxcd/pkg/kustomize, pinned in tools/fluxbuild/go.mod) for tests/test_flux.py
$(FLUXBUILD): tools/fluxbuild/main.go tools/fluxbuild/go.mod tools/fluxbuild/go.sum
	cd tools/fluxbuild && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o $(FLUXBUILD) .

# Flux's kustomize-controller v1.9.4 apply and prune (fluxcd/pkg/ssa, pinned in tools/fluxprune/go.mod)
# for tests/e2e/test_prune_protection.py
$(FLUXPRUNE): tools/fluxprune/main.go tools/fluxprune/go.mod tools/fluxprune/go.sum
	cd tools/fluxprune && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o $(FLUXPRUNE) .

# CoreDNS's Corefile parser and forward-target resolution as Kuscia 1.1.0b0 embeds them (coredns v1.12.2,
# pinned in tools/corednscheck/go.mod) for tests/test_kuscia_dns.py
$(COREDNSCHECK): tools/corednscheck/main.go tools/corednscheck/go.mod tools/corednscheck/go.sum
	cd tools/corednscheck && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o $(COREDNSCHECK) .
