"""The OpenAI- and Ollama-compatible HTTP API: a front end on the serving core (desktop.app.model_service)."""
