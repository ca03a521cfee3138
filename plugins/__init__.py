"""In-tree lmsplugins plugins: one package per integration (see plugins/example for the template)."""
