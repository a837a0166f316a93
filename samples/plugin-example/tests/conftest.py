# The test kit that comes with augment: fixtures and conformance checks.
pytest_plugins = ["augment.testing"]
