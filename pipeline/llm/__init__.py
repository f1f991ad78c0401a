"""The OpenAI-compatible LLM backend: config, roles, batch client, cache, limits, accounting.

Build one `pipeline.llm.client.LLMClient.from_settings(settings)` per process
and pass it to the backends in `pipeline.backends.llm_text`; a build passes them
`pipeline.llm.process.ClientProcess`, the same client in a child process. This package
imports nothing itself, so loading the build config (`pipeline.llm.config`)
does not pull in the HTTP client.
"""
