"""kfplug: compile one FederationSpec into per-party kustomize trees."""

__version__ = "0.1.0"
