"""Protection models."""
