"""A new runtime is a package of its own: dropped into kfplug.runtimes' path, with no change to any
generic module, it is found by name, its spec is checked by the shared checks and its own, and the
generic compiler builds its overlays from the shared steps it lists."""

from __future__ import annotations

import sys
import textwrap

import pytest

from kfplug import api, runtime
from kfplug.diagnostics import SpecError

TOY = '''
"""A toy runtime: one router-less stateful module and one web UI."""
import re

from kfplug.catalog import Module, Release
from kfplug.compile import frame, ingress, placement, storage
from kfplug.runtime import Runtime


class Toy(Runtime):
    name = "toy"
    namespace_prefix = "toy-"
    releases = {"1.0": Release("1.0", ("store", "web"), router="web",
                               images={"toy/store": ("example.org/toy/store", "1.0"),
                                       "toy/web": ("example.org/toy/web", "1.0")})}
    modules = {"store": Module("store", "StatefulSet", "toy/store", {"db": 5000}, stateful=True,
                               default_size="3Gi"),
               "web": Module("web", "Deployment", "toy/web", {"http": 8000}, web_port=8000,
                             router_port="http", scalable=True)}
    party_fields = frozenset({"modules", "replicas", "storage", "ingress"})

    def party_id(self, value):
        if not re.fullmatch("[a-z]+", value):
            raise ValueError(f"{value!r} is not a toy id (lowercase letters)")
        return value

    def resolve(self, spec):
        import attrs
        return attrs.evolve(spec, parties=tuple(
            attrs.evolve(p, modules=p.modules or ("store", "web")) for p in spec.parties))

    def modules_of(self, member, release):
        return tuple(self.modules[name] for name in release.modules if name in (member.spec.modules or ()))

    def checks(self):
        def no_zed(spec, runtime):
            for index, party in enumerate(spec.parties):
                if party.id == "zed":
                    yield ("spec", "parties", index, "id"), "zed is not welcome"
        return (no_zed,)

    def steps(self, ctx):
        return (frame.namespace, placement.placement, storage.storage, ingress.ingresses)

    def bases(self, ctx):
        return tuple(ctx.release.base(self.name, m.name) for m in ctx.modules)

    def images(self, ctx):
        return frame.images(ctx)


RUNTIME = Toy()
'''

SPEC = """\
apiVersion: kfplug.dev/v1alpha1
kind: Federation
metadata: {name: toys}
spec:
  runtime: toy
  version: "1.0"
  images: {registry: mirror.example.org/toys}
  parties:
    - id: alpha
      storage: {storageClass: fast}
      ingress: {domain: toys.example.org}
    - id: beta
      replicas: {web: 3}
"""


@pytest.fixture
def toy(tmp_path, monkeypatch):
    package = tmp_path / "runtimes" / "toy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(TOY)
    import kfplug.runtimes

    monkeypatch.setattr(kfplug.runtimes, "__path__", [*kfplug.runtimes.__path__, str(tmp_path / "runtimes")])
    yield tmp_path
    sys.modules.pop("kfplug.runtimes.toy", None)


def spec_file(tmp_path, text: str):
    path = tmp_path / "federation.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_new_runtime_package_is_found_by_name(toy):
    assert "toy" in runtime.names()
    assert runtime.find("toy").name == "toy"


def test_the_generic_compiler_builds_a_new_runtime_from_the_shared_steps(toy):
    plan = api.plan(api.load(spec_file(toy, SPEC)))
    alpha, beta = plan.overlays
    assert (alpha.name, alpha.namespace, beta.namespace) == ("alpha", "toy-alpha", "toy-beta")
    assert alpha.bases == ("toy/1.0/store", "toy/1.0/web")
    assert [(i.name, i.new_name, i.new_tag) for i in alpha.images] == [
        ("toy/store", "mirror.example.org/toys/store", "1.0"), ("toy/web", "mirror.example.org/toys/web", "1.0")]
    assert beta.replicas == (("web", 3),)
    storage = next(p for p in alpha.patches if p.file == "storage-store.yaml")
    (claim,) = storage.body["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "3Gi"  # the catalog's default size
    assert claim["spec"]["storageClassName"] == "fast"
    ingress = next(r for r in alpha.resources if r.body["kind"] == "Ingress")
    assert ingress.body["spec"]["rules"][0]["host"] == "alpha.web.toys.example.org"
    assert not any(r.body["kind"] == "Ingress" for r in beta.resources)


def test_shared_and_own_checks_run_for_a_new_runtime(toy):
    bad = SPEC.replace("- id: beta", "- id: zed").replace("replicas: {web: 3}", "replicas: {wbe: 2}\n      "
                                                                                 "protocol: TLS")
    with pytest.raises(SpecError) as raised:
        api.load(spec_file(toy, bad))
    messages = {(i.path, i.message) for i in raised.value.issues}
    assert ("spec.parties[1].protocol", "a kuscia field; the toy runtime does not take it") in messages
    bad = SPEC.replace("- id: beta", "- id: zed").replace("replicas: {web: 3}", "replicas: {wbe: 2}")
    with pytest.raises(SpecError) as raised:
        api.load(spec_file(toy, bad))
    messages = {(i.path, i.message) for i in raised.value.issues}
    assert messages == {("spec.parties[1].id", "zed is not welcome"),
                        ("spec.parties[1].replicas.wbe", "'wbe' is not a module of this party (did you mean 'web'?)")}


def test_an_unknown_runtime_names_the_ones_there_are(toy):
    with pytest.raises(SpecError) as raised:
        api.load(spec_file(toy, SPEC.replace("runtime: toy", "runtime: tyo")))
    (issue,) = raised.value.issues
    assert issue.path == "spec.runtime"
    assert "available: fate, kuscia, toy" in issue.message and "did you mean 'toy'" in issue.message
