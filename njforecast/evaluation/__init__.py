"""Back-tests and accuracy metrics."""
