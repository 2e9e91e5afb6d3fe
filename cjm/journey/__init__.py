"""The pure journey domain: dataclasses, graph questions, metrics and the open document format.

Only the standard library and networkx are allowed here (tests/journey/test_purity.py enforces it),
so every rule can be tested without an app or a database.
"""
