"""The JSON API for survey tools: per-map tokens, marshmallow schemas, observations by key.

Views live in cjm/routes/api.py; this package holds what they share and can be tested apart.
"""
