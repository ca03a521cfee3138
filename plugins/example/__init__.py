"""The example plugin: a working template that uses every extension point of the host."""
