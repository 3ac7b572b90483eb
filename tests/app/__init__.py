"""Application tests: FATE's own software run against built objects (a package, so its conftest does not collide)."""
