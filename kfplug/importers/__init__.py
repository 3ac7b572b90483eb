"""Importers: another tool's deployment files -> one FederationSpec document.

An importer maps loaded YAML to plain spec data and says where each field came from
(`source.py`); `settle.py` drops what the spec refuses, reported at its input; `output.py`
writes the spec. KubeFATE's cluster.yaml files: `kubefate.py`, `kubefate_member.py`.
"""
