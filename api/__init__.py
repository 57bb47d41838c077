"""FestivalsAPI v1 (/api/v1): JSON only, Api-Key or Bearer token only (hence exempt from CSRF).
resources.py holds the blueprint; docs.py the OpenAPI document and its page."""
