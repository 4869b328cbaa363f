"""Fast discrete-event pacing simulator in virtual time (see docs/pacing.md)."""
