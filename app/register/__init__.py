"""The asset register's write side: inputs, writes with audit, keys, imports, seeds, submissions."""
