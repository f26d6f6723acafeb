"""Client for the Dotloop public API v2, and a local simulator of it."""
