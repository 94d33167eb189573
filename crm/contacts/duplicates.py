"""Finding possible duplicate contacts and customers across the database."""
