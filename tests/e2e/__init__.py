"""End-to-end tests against a real kube-apiserver (a package, so its conftest and the suite's do not collide)."""
