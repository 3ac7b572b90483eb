# Two entry points: `make demo` (install, render an example, build a party) and `make test`.
PYTHON ?= python3
VENV := .venv
TOOLS := $(abspath .tools/bin)
KUSTOMIZE_VERSION := v5.8.1
KUSTOMIZE := $(TOOLS)/kustomize
FLUXBUILD := $(TOOLS)/fluxbuild
COREDNSCHECK := $(TOOLS)/corednscheck

.PHONY: demo test install tools k8s app

demo: install $(KUSTOMIZE)
	$(VENV)/bin/kfplug render examples/two-party/federation.yaml -o out/two-party
	$(VENV)/bin/kfplug secrets init out/two-party
	$(KUSTOMIZE) build out/two-party/overlays/9999

test: install tools app
	PATH="$(TOOLS):$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/python -m pytest

install: $(VENV)/.installed

# versions: constraints.txt pins every package (pyproject.toml states what kfplug supports)
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -c constraints.txt pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

tools: $(KUSTOMIZE) $(FLUXBUILD) $(COREDNSCHECK) k8s

# tests/app: MariaDB from Debian and a Python 3.8 venv with FATE-Flow, FATE-Client and eggroll (all pinned)
app:
	tests/app/install.sh

# kube-apiserver, kube-controller-manager and etcd for tests/e2e; builds only what is missing
k8s:
	tools/k8s/build.sh

$(KUSTOMIZE):
	GOBIN=$(TOOLS) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

# Flux's kustomize-controller build (fluxcd/pkg/kustomize, pinned in tools/fluxbuild/go.mod) for tests/test_flux.py
$(FLUXBUILD): tools/fluxbuild/main.go tools/fluxbuild/go.mod tools/fluxbuild/go.sum
	cd tools/fluxbuild && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o $(FLUXBUILD) .

# CoreDNS's Corefile parser and forward-target resolution as Kuscia 1.1.0b0 embeds them (coredns v1.12.2,
# pinned in tools/corednscheck/go.mod) for tests/test_kuscia_dns.py
$(COREDNSCHECK): tools/corednscheck/main.go tools/corednscheck/go.mod tools/corednscheck/go.sum
	cd tools/corednscheck && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o $(COREDNSCHECK) .
