"""Agency models."""
