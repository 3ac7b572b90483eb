"""Typed values at the boundary: each check takes raw YAML data and returns the
clean value or raises ValueError with a message for the user."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, NamedTuple, TypeVar

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_QUANTITY = re.compile(r"[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][-+]?[0-9]+)?")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?")
_IMAGE_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9._:]*[a-z0-9])?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*")

_Check = TypeVar("_Check", bound=Callable[[object], object])


def raw_type(tp: object) -> Callable[[_Check], _Check]:
    """Marks a check whose YAML value is of type `tp` rather than of the type the check returns: the
    Structurer structures the value as `check.raw_type`, then calls the check (tools/specref.py shows
    that type)."""
    def mark(check: _Check) -> _Check:
        check.raw_type = tp  # type: ignore[attr-defined]  # mypy allows no new attribute on a function
        return check
    return mark


def _expect_str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {_kind(value)} {value!r}; quote it")
    return value


def _kind(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "number", list: "list", dict: "mapping"}.get(
        type(value), type(value).__name__)


def dns_label(value: object) -> str:
    value = _expect_str(value)
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError(f"{value!r} is not a DNS-1123 label (lowercase a-z, 0-9 and '-', at most 63)")
    return value


def dns_subdomain(value: object) -> str:
    value = _expect_str(value)
    if len(value) > 253 or not all(_DNS_LABEL.fullmatch(part) for part in value.split(".")):
        raise ValueError(f"{value!r} is not a DNS-1123 subdomain (lowercase labels joined by '.')")
    return value


def host_name(value: object) -> str:
    """An Ingress host: a DNS subdomain, not an IP address; one leading '*.' allowed."""
    import ipaddress  # rarely needed; keeps start-up light

    value = _expect_str(value)
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        raise ValueError(f"{value!r} is an IP address; an Ingress host must be a DNS name")
    try:
        dns_subdomain(value.removeprefix("*."))
    except ValueError:
        raise ValueError(f"{value!r} is not a valid host name (DNS-1123 subdomain)") from None
    return value


@raw_type(Any)  # text or a number
def quantity(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 10Gi, 500Mi)")
    text = str(value)
    if not _QUANTITY.fullmatch(text) or not re.search(r"[1-9]", text.split("e")[0].split("E")[0]):
        raise ValueError(f"{text!r} is not a Kubernetes quantity (e.g. 10Gi, 500Mi)")
    return text


_SUFFIX: dict[str, int | Decimal] = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


def quantity_value(text: str) -> Decimal:
    """A (checked) Kubernetes quantity as a number: 1Gi -> 1073741824, 500m -> 0.5, 1e3 -> 1000."""
    number = re.match(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text)
    assert number is not None, f"checked: {text!r} is a quantity"
    return Decimal(number.group(0)) * Decimal(_SUFFIX[text[number.end():]])


def node_port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 30000 <= value <= 32767:
        raise ValueError(f"{value!r} is not a NodePort in the default range 30000-32767")
    return value


class Endpoint(NamedTuple):
    """host:port that peers in other clusters dial (an IPv6 host without its brackets)."""
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def ip_block(self) -> str | None:
        """The host as a one-address CIDR block; None for a DNS name, whose addresses are unknown here."""
        import ipaddress  # only for cross-cluster endpoints

        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            return None
        return f"{address}/{address.max_prefixlen}"

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host


@raw_type(str)  # structured from text
def endpoint(value: object) -> Endpoint:
    """host:port, the host an IP address or a DNS name."""
    import ipaddress  # rarely needed; keeps start-up light

    text = _expect_str(value)
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        dns_subdomain(host)
    return Endpoint(host, int(port))


def ip_address(value: object) -> str:
    return _address(value, "ip_address", "an IP address")


def ipv4_address(value: object) -> str:
    return _address(value, "IPv4Address", "an IPv4 address")


def _address(value: object, parser: str, what: str) -> str:
    import ipaddress  # rarely needed; keeps start-up light

    value = _expect_str(value)
    try:
        getattr(ipaddress, parser)(value)
    except ValueError:
        raise ValueError(f"{value!r} is not {what}") from None
    return value


def cidr(value: object) -> str:
    """An IP network in CIDR notation, host bits zero (10.1.2.0/24, fd00::/64)."""
    import ipaddress  # rarely needed; keeps start-up light

    value = _expect_str(value)
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a CIDR block ({error})") from None
    return value


def port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ValueError(f"{value!r} is not a port (1-65535)")
    return value


def label_key(value: object) -> str:
    """A label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters."""
    value = _expect_str(value)
    prefix, _, name = value.rpartition("/")
    if not _LABEL_NAME.fullmatch(name) or (prefix and not _is_subdomain(prefix)):
        raise ValueError(f"{value!r} is not a valid label key")
    return value


@raw_type(dict)  # any mapping; the check reports a key or value that is not a label's
def label_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping of labels, got {_kind(value)}")
    for key, val in value.items():
        label_key(key)
        if not isinstance(val, str) or not _LABEL_VALUE.fullmatch(val):
            raise ValueError(f"label {key}: {val!r} is not a valid label value (a string; quote numbers)")
    return value


def _is_subdomain(text: str) -> bool:
    try:
        dns_subdomain(text)
    except ValueError:
        return False
    return True


def image_prefix(value: object) -> str:
    """A registry/repository prefix; trailing slashes are dropped so joining is always correct."""
    value = _expect_str(value).rstrip("/")
    if not _IMAGE_PREFIX.fullmatch(value):
        raise ValueError(f"{value!r} is not an image registry prefix (e.g. harbor.local/federatedai)")
    return value


def positive_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected an integer >= 1, got {value!r}")
    return value


def weight(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValueError(f"expected a weight from 1 to 100, got {value!r}")
    return value


def absolute_path(value: object) -> str:
    value = _expect_str(value)
    if not value.startswith("/") or "/../" in value + "/":
        raise ValueError(f"{value!r} is not an absolute path")
    return value.rstrip("/") or "/"


def repository_path(value: object) -> str:
    """A directory inside a Git repository, relative to its root: `fleet/two-party`, or `.` for the root."""
    text = _expect_str(value)
    if text in (".", "./"):
        return "."
    parts = text.removeprefix("./").rstrip("/").split("/")
    if text.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"{text!r} is not a relative path inside the repository (e.g. fleet/two-party)")
    return "/".join(parts)


def duration(value: object) -> str:
    """A Go duration as Flux takes it: 10m, 1h30m, 45s."""
    text = _expect_str(value)
    if not re.fullmatch(r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+", text):
        raise ValueError(f"{text!r} is not a duration (e.g. 10m, 1h30m, 45s)")
    return text


def age_recipient(value: object) -> str:
    """An age X25519 public key (age1 and 58 bech32 characters)."""
    text = _expect_str(value)
    if not re.fullmatch(r"age1[02-9ac-hj-np-z]{58}", text):
        raise ValueError(f"{text!r} is not an age recipient (age1..., as age-keygen prints it)")
    return text


def url(value: object) -> str:
    """An https, http or ssh URL of a Git repository (or ssh's git@host:path form)."""
    text = _expect_str(value)
    if not re.fullmatch(r"(https?|ssh)://[^\s/@]+(@[^\s/]+)?(/\S*)?|git@[^\s:]+:\S+", text):
        raise ValueError(f"{text!r} is not a repository URL (https://..., ssh://... or git@host:path)")
    return text


DNSLabel = Annotated[str, dns_label]
DNSSubdomain = Annotated[str, dns_subdomain]
HostName = Annotated[str, host_name]
Quantity = Annotated[str, quantity]
NodePort = Annotated[int, node_port]
EndpointValue = Annotated[Endpoint, endpoint]
IPAddress = Annotated[str, ip_address]
IPv4Address = Annotated[str, ipv4_address]
CIDR = Annotated[str, cidr]
Port = Annotated[int, port]
Labels = Annotated[dict[str, str], label_map]
LabelKey = Annotated[str, label_key]
Weight = Annotated[int, weight]
ImagePrefix = Annotated[str, image_prefix]
PositiveInt = Annotated[int, positive_int]
AbsolutePath = Annotated[str, absolute_path]
RepositoryPath = Annotated[str, repository_path]
Duration = Annotated[str, duration]
AgeRecipient = Annotated[str, age_recipient]
URL = Annotated[str, url]
