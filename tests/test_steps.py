"""Each shared compile step, on its own: a party's spec in, the overlay parts it adds out.
No external tool; the expected parts are written here, reviewed as code."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from kfplug import api
from kfplug.compile import exposure, frame, ingress, placement, secrets, storage
from kfplug.compile.context import PartyContext
from kfplug.plan import Patch, Resource, SecretGen
from kfplug.runtime import find
from kfplug.spec.members import members

HEAD = """\
apiVersion: kfplug.dev/v1alpha1
kind: Federation
metadata: {name: steps}
spec:
  runtime: fate
  version: "2.0.0"
  nodes: [{name: n1, labels: {disk: ssd}}, {name: n2, labels: {disk: ssd}}]
"""


def context(directory: Path, party: str, extra: str = "") -> PartyContext:
    """The context of party 9999, whose fields are `party`, in a spec with the top-level fields `extra`."""
    text = HEAD + textwrap.indent(textwrap.dedent(extra), "  ") + "  parties:\n    - id: 9999\n" \
        + textwrap.indent(textwrap.dedent(party), "      ")
    path = directory / "federation.yaml"
    path.write_text(text)
    federation = api.load(path)
    runtime = find("fate")
    release = runtime.releases["2.0.0"]
    member = members(federation.spec)[0]
    return PartyContext(federation, runtime, release, member, runtime.modules_of(member, release))


def summary(parts) -> dict:
    """file -> body (a generated Secret as its name and keys)."""
    out = {}
    for part in parts:
        if isinstance(part, SecretGen):
            out[part.env_file] = {"secret": part.name, "keys": list(part.keys)}
        elif isinstance(part, (Patch, Resource)):
            out[part.file] = part.body
        else:
            raise AssertionError(f"unexpected part {part!r}")
    return out


ROWS = [
    ("namespace", frame.namespace, "modules: [osx]\n", "", textwrap.dedent("""\
        namespace.yaml:
          apiVersion: v1
          kind: Namespace
          metadata:
            name: fate-9999
            labels:
              app.kubernetes.io/name: fate
            annotations:
              kustomize.toolkit.fluxcd.io/prune: disabled
              argocd.argoproj.io/sync-options: Prune=false,Delete=false
    """)),
    ("pull-settings", frame.pull_settings, "modules: [mysql, osx, clustermanager]\n",
     "images: {pullPolicy: Always, pullSecrets: [regcred]}\n", textwrap.dedent("""\
        images-mysql.yaml:
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: mysql
          spec:
            template:
              spec:
                imagePullSecrets:
                - name: regcred
                containers:
                - name: mysql
                  imagePullPolicy: Always
        images-osx.yaml:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: osx
          spec:
            template:
              spec:
                imagePullSecrets:
                - name: regcred
                containers:
                - name: osx
                  imagePullPolicy: Always
        images-clustermanager.yaml:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: clustermanager
          spec:
            template:
              spec:
                imagePullSecrets:
                - name: regcred
                initContainers:
                - name: wait-for-mysql
                  imagePullPolicy: Always
                containers:
                - name: clustermanager
                  imagePullPolicy: Always
    """)),
    ("resource-overrides", frame.resource_overrides,
     "modules: [osx]\nresources: {osx: {limits: {cpu: '2', memory: 1Gi}}}\n", "", textwrap.dedent("""\
        resources-osx.yaml:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: osx
          spec:
            template:
              spec:
                containers:
                - name: osx
                  resources:
                    limits:
                      cpu: '2'
                      memory: 1Gi
    """)),
    ("placement", placement.placement,
     "modules: [mysql, osx]\nplacement: {nodeSelector: {disk: ssd}, modules: {osx: {nodes: [n1, n2]}}}\n", "",
     textwrap.dedent("""\
        placement-mysql.yaml:
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: mysql
          spec:
            template:
              spec:
                nodeSelector:
                  disk: ssd
        placement-osx.yaml:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: osx
          spec:
            template:
              spec:
                nodeSelector:
                  disk: ssd
                affinity:
                  nodeAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                      nodeSelectorTerms:
                      - matchFields:
                        - key: metadata.name
                          operator: In
                          values:
                          - n1
                      - matchFields:
                        - key: metadata.name
                          operator: In
                          values:
                          - n2
                  podAntiAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                    - labelSelector:
                        matchLabels:
                          app.kubernetes.io/name: osx
                      topologyKey: kubernetes.io/hostname
    """)),
    ("storage-class", storage.storage, "modules: [mysql, osx]\nstorage: {storageClass: fast, sizes: {mysql: 50Gi}}\n",
     "", textwrap.dedent("""\
        storage-mysql.yaml:
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: mysql
          spec:
            volumeClaimTemplates:
            - metadata:
                name: data
                labels:
                  app.kubernetes.io/name: mysql
              spec:
                accessModes:
                - ReadWriteOnce
                resources:
                  requests:
                    storage: 50Gi
                storageClassName: fast
    """)),
    ("storage-nfs", storage.storage, "modules: [mysql, osx, clustermanager, nodemanager]\n"
     "storage: {nfs: {server: 10.0.0.5, path: /exports/fate/}}\n", "", textwrap.dedent("""\
        storage-mysql.yaml:
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: mysql
          spec:
            volumeClaimTemplates:
            - metadata:
                name: data
                labels:
                  app.kubernetes.io/name: mysql
              spec:
                accessModes:
                - ReadWriteOnce
                resources:
                  requests:
                    storage: 10Gi
                storageClassName: ''
        pv-mysql-0.yaml:
          apiVersion: v1
          kind: PersistentVolume
          metadata:
            name: fate-9999-mysql-0
            labels:
              app.kubernetes.io/name: mysql
            annotations:
              kustomize.toolkit.fluxcd.io/prune: disabled
              argocd.argoproj.io/sync-options: Prune=false,Delete=false
          spec:
            capacity:
              storage: 10Gi
            accessModes:
            - ReadWriteOnce
            persistentVolumeReclaimPolicy: Retain
            storageClassName: ''
            claimRef:
              namespace: fate-9999
              name: data-mysql-0
            nfs:
              server: 10.0.0.5
              path: /exports/fate/9999/mysql-0
        storage-nodemanager.yaml:
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: nodemanager
          spec:
            volumeClaimTemplates:
            - metadata:
                name: data
                labels:
                  app.kubernetes.io/name: nodemanager
              spec:
                accessModes:
                - ReadWriteOnce
                resources:
                  requests:
                    storage: 20Gi
                storageClassName: ''
        pv-nodemanager-0.yaml:
          apiVersion: v1
          kind: PersistentVolume
          metadata:
            name: fate-9999-nodemanager-0
            labels:
              app.kubernetes.io/name: nodemanager
            annotations:
              kustomize.toolkit.fluxcd.io/prune: disabled
              argocd.argoproj.io/sync-options: Prune=false,Delete=false
          spec:
            capacity:
              storage: 20Gi
            accessModes:
            - ReadWriteOnce
            persistentVolumeReclaimPolicy: Retain
            storageClassName: ''
            claimRef:
              namespace: fate-9999
              name: data-nodemanager-0
            nfs:
              server: 10.0.0.5
              path: /exports/fate/9999/nodemanager-0
        pv-nodemanager-1.yaml:
          apiVersion: v1
          kind: PersistentVolume
          metadata:
            name: fate-9999-nodemanager-1
            labels:
              app.kubernetes.io/name: nodemanager
            annotations:
              kustomize.toolkit.fluxcd.io/prune: disabled
              argocd.argoproj.io/sync-options: Prune=false,Delete=false
          spec:
            capacity:
              storage: 20Gi
            accessModes:
            - ReadWriteOnce
            persistentVolumeReclaimPolicy: Retain
            storageClassName: ''
            claimRef:
              namespace: fate-9999
              name: data-nodemanager-1
            nfs:
              server: 10.0.0.5
              path: /exports/fate/9999/nodemanager-1
    """)),
    ("storage-none", storage.storage, "modules: [mysql, osx]\nstorage: {none: true}\n", "", textwrap.dedent("""\
        storage-mysql.yaml:
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: mysql
          spec:
            volumeClaimTemplates: null
            template:
              spec:
                volumes:
                - name: data
                  emptyDir: {}
    """)),
    ("storage-existing-claim", storage.storage, "modules: [mysql, osx]\nstorage: {existingClaims: {mysql: db-data}}\n",
     "", textwrap.dedent("""\
        storage-mysql.yaml:
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: mysql
          spec:
            volumeClaimTemplates: null
            template:
              spec:
                volumes:
                - name: data
                  persistentVolumeClaim:
                    claimName: db-data
    """)),
    ("ingress", ingress.ingresses, "modules: [mysql, osx, clustermanager, fateflow, fateboard]\n"
     "ingress: {className: nginx, domain: example.org, tls: {secretName: web-tls}}\n", "", textwrap.dedent("""\
        ingress-fateboard.yaml:
          apiVersion: networking.k8s.io/v1
          kind: Ingress
          metadata:
            name: fateboard
            labels:
              app.kubernetes.io/name: fateboard
          spec:
            ingressClassName: nginx
            tls:
            - hosts:
              - 9999.fateboard.example.org
              secretName: web-tls
            rules:
            - host: 9999.fateboard.example.org
              http:
                paths:
                - path: /
                  pathType: Prefix
                  backend:
                    service:
                      name: fateboard
                      port:
                        number: 8080
    """)),
    ("exposure", exposure.exposure, "modules: [osx]\nexpose: {type: NodePort, nodePort: 30091}\n", "",
     textwrap.dedent("""\
        exposure.yaml:
          apiVersion: v1
          kind: Service
          metadata:
            name: osx
          spec:
            type: NodePort
            ports:
            - port: 9370
              nodePort: 30091
    """)),
    ("secrets-generated", secrets.secrets, "modules: [mysql, osx, clustermanager]\n", "", textwrap.dedent("""\
        secrets/mysql.env:
          secret: mysql
          keys:
          - password
    """)),
    ("secrets-referenced", secrets.secrets, "modules: [mysql, osx, clustermanager]\n"
     "secrets: {mysql: {secretName: db-login}}\n", "", textwrap.dedent("""\
        secrets-mysql.yaml:
          apiVersion: apps/v1
          kind: StatefulSet
          metadata:
            name: mysql
          spec:
            template:
              spec:
                volumes:
                - name: mysql-password
                  secret:
                    secretName: db-login
        secrets-clustermanager.yaml:
          apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: clustermanager
          spec:
            template:
              spec:
                volumes:
                - name: mysql-password
                  secret:
                    secretName: db-login
    """)),
]


@pytest.mark.parametrize("ident, step, party, extra, expected", ROWS, ids=[row[0] for row in ROWS])
def test_step_adds_exactly_these_parts(tmp_path, ident, step, party, extra, expected):
    assert summary(step(context(tmp_path, party, extra))) == yaml.safe_load(expected)
