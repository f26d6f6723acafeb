"""A local HTTP simulator of the Dotloop public API v2."""
