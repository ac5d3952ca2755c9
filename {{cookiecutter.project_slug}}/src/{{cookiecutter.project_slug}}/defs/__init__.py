"""Everything Dagster loads, one folder per concern (dg.load_from_defs_folder)."""
