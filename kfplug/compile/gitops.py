"""The objects that deploy the tree from Git: per cluster, a Flux Kustomization for each overlay
(deploy/flux/<cluster>/) and an Argo CD ApplicationSet with an Application for each overlay
(deploy/argocd/<cluster>/). Paths are the overlays' paths inside the repository."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..plan import PARTY, Resource
from ..runtime import Runtime
from ..spec.members import Member
from ..spec.model import ArgoCD, Federation, Flux, GitOps
from .context import federation_labels

FLUX_NAMESPACE = "flux-system"
FLUX_INTERVAL = "10m"
FLUX_TIMEOUT = "15m"  # the master's bootstrap Job and FATE's mysql take minutes on a cold node
SOPS_SECRET = "sops-age"
ARGOCD_NAMESPACE = "argocd"
LOCAL_CLUSTER = "https://kubernetes.default.svc"


def reconcilers(federation: Federation, runtime: Runtime, everyone: Sequence[Member]) -> tuple[Resource, ...]:
    gitops = federation.spec.gitops
    if gitops is None:
        return ()
    out: list[Resource] = []
    if gitops.flux is not None:
        out += _flux(federation, gitops, gitops.flux, runtime, everyone)
    if gitops.argocd is not None:
        out += _argocd(federation, gitops, gitops.argocd, everyone)
    return tuple(out)


def overlay_path(gitops: GitOps, overlay: str) -> str:
    """An overlay's directory inside the repository."""
    return f"{'' if gitops.path == '.' else gitops.path + '/'}overlays/{overlay}"


def _flux(federation: Federation, gitops: GitOps, flux: Flux, runtime: Runtime,
          everyone: Sequence[Member]) -> Iterator[Resource]:
    hubbed = flux.kube_config_secrets or {}
    namespace = flux.namespace or FLUX_NAMESPACE
    source: dict[str, Any] = {"kind": flux.source_ref.kind or "GitRepository", "name": flux.source_ref.name}
    if flux.source_ref.namespace:
        source["namespace"] = flux.source_ref.namespace

    def one_flux(a: Member, b: Member) -> bool:
        """dependsOn names a Kustomization of the same Flux: the same cluster's, or a hub's."""
        return a.cluster == b.cluster or (a.cluster in hubbed and b.cluster in hubbed)

    for member in everyone:
        spec: dict[str, Any] = {"interval": flux.interval or FLUX_INTERVAL,
                                "path": f"./{overlay_path(gitops, member.name)}",
                                "prune": True, "wait": True, "timeout": FLUX_TIMEOUT, "sourceRef": source}
        needs = [m for m in runtime.depends_on(member, everyone) if one_flux(member, m)]
        if needs:
            spec["dependsOn"] = [{"name": _name(federation, m)} for m in needs]
        if gitops.sops is not None:
            spec["decryption"] = {"provider": "sops",
                                  "secretRef": {"name": gitops.sops.decryption_secret or SOPS_SECRET}}
        if member.cluster in hubbed:
            spec["kubeConfig"] = {"secretRef": {"name": hubbed[member.cluster]}}
        if flux.service_account_name:
            spec["serviceAccountName"] = flux.service_account_name
        body = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": _name(federation, member), "namespace": namespace,
                             "labels": federation_labels(federation, member)},
                "spec": spec}
        yield Resource(f"deploy/flux/{member.cluster}/{member.name}.yaml", body)


def _name(federation: Federation, member: Member) -> str:
    return f"{federation.metadata.name}-{member.name}"


def _argocd(federation: Federation, gitops: GitOps, argocd: ArgoCD,
            everyone: Sequence[Member]) -> Iterator[Resource]:
    clusters = list(dict.fromkeys(member.cluster for member in everyone))
    for cluster in clusters:
        elements = [{"overlay": m.name, "namespace": m.namespace} for m in everyone if m.cluster == cluster]
        server = (argocd.destinations or {}).get(cluster, LOCAL_CLUSTER)
        template = {
            "metadata": {"name": f"{federation.metadata.name}-{{{{.overlay}}}}",
                         "labels": {**federation_labels(federation), PARTY: "{{.overlay}}"}},
            "spec": {
                "project": argocd.project or "default",
                "source": {"repoURL": argocd.repo_url, "targetRevision": argocd.target_revision or "HEAD",
                           "path": overlay_path(gitops, "{{.overlay}}")},
                "destination": {"server": server, "namespace": "{{.namespace}}"},
                "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
            },
        }
        body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
                "metadata": {"name": f"{federation.metadata.name}-{cluster}",
                             "namespace": argocd.namespace or ARGOCD_NAMESPACE,
                             "labels": federation_labels(federation)},
                "spec": {"goTemplate": True, "goTemplateOptions": ["missingkey=error"],
                         "generators": [{"list": {"elements": elements}}], "template": template}}
        yield Resource(f"deploy/argocd/{cluster}/applicationset.yaml", body)

