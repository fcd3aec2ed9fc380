"""The package version, in one place (read by setuptools at build time and by ``invariances --version``)."""

__version__ = "0.2.0"
