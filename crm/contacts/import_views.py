"""Pages of the CSV import: upload, preview, run, report."""
