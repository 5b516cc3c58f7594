"""HTTP routes, one module per resource; handlers parse, call the core, shape the answer."""
