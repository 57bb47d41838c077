"""The rules of the platform. Every function takes the acting user explicitly (actor=...) and never
reads Flask's request, session or g: api/, portal/ and the CLI call the same code."""
