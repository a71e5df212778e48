"""The claims, one module per topic family; `registry.load_all()` imports every module here."""
