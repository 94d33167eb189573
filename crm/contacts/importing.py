"""CSV import of customers with their contacts: parse, validate, preview, apply, report."""
