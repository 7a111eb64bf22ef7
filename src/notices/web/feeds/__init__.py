"""The feed fast path in front of the app: cached bytes, HTTP caching, query filters."""
