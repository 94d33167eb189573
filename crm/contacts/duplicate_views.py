"""The "Possible duplicates" page: the scan job, candidate pairs, dismissals."""
