"""NeedleDesk: offline microneedling session records for small skin clinics."""

__version__ = "0.1.0"
