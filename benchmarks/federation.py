"""Generated FederationSpecs for the scale benchmarks: an exchange and N parties.

A star over several clusters (ceil(N/50), at least two), every router a NodePort
(unique per cluster) or a LoadBalancer with an endpoint for the other clusters,
and a mix of storage (storageClass / nfs / none / the default), ingress (domain
or an explicit host), placement (selectors, tolerations, inventory nodes),
secret references, replicas and resource overrides. Written as YAML text, as a
user would write it; every generated spec is valid.
"""

from __future__ import annotations

import math

FIRST_ID = 10000
PARTIES_PER_CLUSTER = 50
NODE_PORTS = 30001  # 30000 is the exchange's; one port per party of a cluster from here
NODES = ("node-0", "node-1", "node-2", "node-3")


def cluster_count(parties: int) -> int:
    return max(2, math.ceil(parties / PARTIES_PER_CLUSTER))


def federation(parties: int) -> str:
    """The spec of an exchange and `parties` FATE 2.0.0 parties."""
    clusters = cluster_count(parties)
    lines = [
        "apiVersion: kfplug.dev/v1alpha1",
        "kind: Federation",
        "metadata:",
        f"  name: bench-{parties}",
        "spec:",
        "  runtime: fate",
        '  version: "2.0.0"',
        "  images:",
        "    registry: harbor.example/federatedai",
        "    pullSecrets: [harbor-pull]",
        "  clusters: [" + ", ".join(f"{{name: org-{c}}}" for c in range(clusters)) + "]",
        "  nodes:",
        *(f"    - {{name: {node}, labels: {{disk: ssd, fedai.hostname: egg{i}}}}}" for i, node in enumerate(NODES)),
        "  exchange:",
        "    id: 1",
        "    cluster: org-0",
        "    expose: {type: NodePort, nodePort: 30000}",
        "    endpoint: 10.0.0.1:30000",
        "  defaults:",
        "    expose: {type: NodePort}",
        "  parties:",
    ]
    for index in range(parties):
        lines += party(index, clusters)
    return "\n".join(lines) + "\n"


def party(index: int, clusters: int) -> list[str]:
    """One party's lines; `index` picks its cluster and its mix of options."""
    party_id = FIRST_ID + index
    cluster, slot = index % clusters, index // clusters
    address = f"10.{index // 62500 % 250}.{index // 250 % 250}.{index % 250 + 2}"  # unique per party
    lines = [f"    - id: {party_id}", f"      cluster: org-{cluster}"]
    if index % 5 == 4:
        lines += [f"      expose: {{type: LoadBalancer, loadBalancerIP: {address}}}",
                  f"      endpoint: {address}:9370"]
    else:
        lines += [f"      expose: {{nodePort: {NODE_PORTS + slot}}}", f"      endpoint: {address}:{NODE_PORTS + slot}"]
    if index % 7 == 3:
        lines.append("      replicas: {nodemanager: 3, fateflow: 2}")
    if index % 2 == 0:
        lines += ["      secrets:", "        mysql: {secretName: fate-mysql}",
                  "        fateboard: {secretName: fate-fateboard}", "        client: {secretName: fate-notebook}"]
    return lines + storage(index) + ingress(index, party_id) + placement(index) + resources(index)


def storage(index: int) -> list[str]:
    kind = index % 4
    if kind == 0:
        return ["      storage: {storageClass: ssd-retain, sizes: {mysql: 20Gi, nodemanager: 50Gi}}"]
    if kind == 1:
        return ["      storage:", "        nfs: {server: 10.200.0.10, path: /exports/fate}",
                "        sizes: {mysql: 20Gi}"]
    if kind == 2 and index % 8 == 2:
        return ["      storage: {none: true}"]
    return []  # the cluster's default StorageClass


def ingress(index: int, party_id: int) -> list[str]:
    if index % 3 == 1:
        return []
    lines = ["      ingress:", "        className: nginx", "        domain: fate.example.com"]
    if index % 6 == 0:
        lines.append(f"        hosts: {{fateboard: board-{party_id}.example.com}}")
    return lines + [f"        tls: {{secretName: fate-{party_id}-tls}}"]


def placement(index: int) -> list[str]:
    kind = index % 5
    if kind == 0:
        return ["      placement:", "        nodeSelector: {disk: ssd}", "        modules:",
                "          mysql: {nodeSelector: {fedai.hostname: egg0}}",
                "          nodemanager: {nodes: [node-0, node-1, node-2]}"]
    if kind == 2:
        return ["      placement:", "        tolerations:",
                "          - {key: dedicated, operator: Equal, value: fate, effect: NoSchedule}"]
    return []


def resources(index: int) -> list[str]:
    if index % 6 != 5:
        return []
    return ["      resources:", '        fateflow: {requests: {cpu: "1", memory: 2Gi}, limits: {memory: 4Gi}}']
