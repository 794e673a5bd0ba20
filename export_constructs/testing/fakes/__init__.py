"""Fake AWS services for the offline simulation: one module per service, named like the
handler's adapter (``fakes/<adapter>.py`` with a class ``Fake``)."""
