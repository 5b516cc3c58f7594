"""The spatial core: lookups, nearest, footprints, hours, coverage; all spatial SQL is here."""
