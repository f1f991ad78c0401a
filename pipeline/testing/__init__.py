"""Real local stand-ins for tests, benchmarks and dry runs (loopback servers, tiny models)."""
