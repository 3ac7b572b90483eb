"""The Flux and Argo CD objects `render` writes under deploy/, held against the projects' own CRDs
(../shared/upstream: kustomize-controller v1.9.4, source-controller v1.9.0, Argo CD v3.5.1) installed
on the test API server: a server-side dry run admits every one of them, and each ApplicationSet's
template, filled in for each element as Argo CD does, is an Application the server admits too."""

from __future__ import annotations

import pytest
import yaml

from conftest import build

from .kube import install_crds, unpack_upstream

pytestmark = [pytest.mark.e2e, pytest.mark.tools]

CRDS = {
    "flux-kustomize-controller-v1.9.4": ["config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml"],
    "flux-source-controller-v1.9.0": ["config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml"],
    "argo-cd-v3.5.1": ["manifests/crds/application-crd.yaml", "manifests/crds/applicationset-crd.yaml"],
}
NAMESPACES = ("flux-system", "argocd")


@pytest.fixture(scope="module")
def gitops_crds(kubectl, tmp_path_factory):
    root = tmp_path_factory.mktemp("gitops-crds")
    for name, files in CRDS.items():
        upstream = unpack_upstream(name, root)
        for file in files:
            install_crds(kubectl, upstream / file)
    for namespace in NAMESPACES:
        kubectl.run("create", "namespace", namespace, check=False)
    return kubectl


def dry_run(kubectl, objects: list[dict]) -> None:
    result = kubectl.run("apply", "--server-side", "--dry-run=server", "-f", "-",
                         stdin=yaml.safe_dump_all(objects, sort_keys=False))
    assert result.stdout.count("serverside-applied (server dry run)") == len(objects), result.stdout


def deploy(rendered, kustomize, example: str, tool: str) -> list[dict]:
    root = rendered[example] / "deploy" / tool
    objects = [o for d in sorted(root.iterdir()) for o in yaml.safe_load_all(build([kustomize, "build"], d)) if o]
    assert objects
    return objects


def test_flux_admits_every_kustomization_and_their_source(gitops_crds, rendered, kustomize):
    objects = deploy(rendered, kustomize, "gitops-flux", "flux")
    source = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
              "metadata": {"name": "fleet", "namespace": "flux-system"},
              "spec": {"interval": "1m", "url": "https://git.example.org/platform/fleet.git",
                       "ref": {"branch": "main"}}}
    dry_run(gitops_crds, [source, *objects])


def test_argocd_admits_every_applicationset_and_the_applications_it_makes(gitops_crds, rendered, kustomize):
    applicationsets = deploy(rendered, kustomize, "gitops-argocd", "argocd")
    dry_run(gitops_crds, applicationsets)
    applications = []
    for applicationset in applicationsets:
        template = yaml.safe_dump(applicationset["spec"]["template"])
        for element in applicationset["spec"]["generators"][0]["list"]["elements"]:
            text = template
            for key, value in element.items():
                text = text.replace(f"{{{{.{key}}}}}", str(value))
            assert "{{" not in text, text
            application = yaml.safe_load(text)
            applications.append({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                                 "metadata": {**application["metadata"], "namespace": "argocd"},
                                 "spec": application["spec"]})
    assert len(applications) == 3
    dry_run(gitops_crds, applications)


def test_the_kustomization_crd_refuses_a_wrong_interval(gitops_crds, rendered, kustomize):
    """The check can fail: the CRD's pattern refuses an interval kfplug would never write."""
    (kustomization, *_) = deploy(rendered, kustomize, "gitops-flux", "flux")
    kustomization["spec"]["interval"] = "ten minutes"
    result = gitops_crds.run("apply", "--server-side", "--dry-run=server", "-f", "-",
                             stdin=yaml.safe_dump(kustomization), check=False)
    assert result.returncode != 0 and "spec.interval" in result.stderr, result.stderr
