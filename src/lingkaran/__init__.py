"""Lingkaran: sponsored BPJS Ketenagakerjaan protection for vulnerable informal workers."""

__version__ = "0.1.0"
