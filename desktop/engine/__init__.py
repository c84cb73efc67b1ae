"""Qt-free: the inference worker process, its protocol and its client."""
