"""Survey and web-analytics imports: read real exports (CSV/XLSX), map, validate, commit.

reading.py, mapping.py and validate.py are pure (no Flask, no database); importer.py and
analytics.py write rows; cli.py is the `survey` command group."""
