"""Qt-free: models on this machine, what their GGUF headers say, and whether they are whole."""
