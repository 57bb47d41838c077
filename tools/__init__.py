"""Operator tooling that runs beside the app (imports from other systems); not loaded by the app itself."""
