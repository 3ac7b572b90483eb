"""The members of a federation: its parties and, where the runtime has them, the exchange
(FATE's hub) and the master (Kuscia's control plane). Each becomes one overlay."""

from __future__ import annotations

from typing import Literal

import attrs

from ..diagnostics import FieldPath
from .model import Exchange, Master, Party, Spec
from .values import Endpoint

Kind = Literal["party", "exchange", "master"]
PARTY: Kind = "party"
EXCHANGE: Kind = "exchange"
MASTER: Kind = "master"


@attrs.frozen
class Member:
    kind: Kind
    spec: Party | Exchange | Master
    path: FieldPath  # where it is in the spec

    @property
    def id(self) -> str:
        return str(self.spec.id)

    @property
    def name(self) -> str:
        """Its overlay directory and party label: a party's id, else its kind."""
        return self.id if self.kind == PARTY else self.kind

    @property
    def namespace(self) -> str:
        return self.spec.namespace or ""  # resolved before anything reads it

    @property
    def cluster(self) -> str:
        return self.spec.cluster or ""

    @property
    def endpoint(self) -> Endpoint | None:
        return self.spec.endpoint

    @property
    def party(self) -> Party | None:
        return self.spec if isinstance(self.spec, Party) else None

    @property
    def exposed(self) -> bool:
        """Its router is published outside its cluster."""
        return self.spec.expose is not None and self.spec.expose.outside

    def label(self) -> str:
        """How messages name it: `party 9999 (cluster a)`, `exchange (cluster b)`."""
        what = f"party {self.id}" if self.kind == PARTY else self.kind
        return f"{what} (cluster {self.cluster})"


def members(spec: Spec) -> list[Member]:
    """The exchange, the master, then the parties, in spec order."""
    out = []
    if spec.exchange is not None:
        out.append(Member(EXCHANGE, spec.exchange, ("spec", "exchange")))
    if spec.master is not None:
        out.append(Member(MASTER, spec.master, ("spec", "master")))
    out += [Member(PARTY, party, ("spec", "parties", index)) for index, party in enumerate(spec.parties)]
    return out


def service_host(service: str, namespace: str) -> str:
    return f"{service}.{namespace}.svc.cluster.local"


def reach(source: Member, target: Member, service: str, port: int) -> Endpoint | None:
    """How `source` dials `target`'s Service: by its cluster DNS name in one cluster, by its
    declared endpoint across clusters; None when it declares none."""
    if source.cluster == target.cluster:
        return Endpoint(service_host(service, target.namespace), port)
    return target.endpoint
