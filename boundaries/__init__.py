"""The project's layer definitions (hubs, which bundle files make which layer), its loader."""
