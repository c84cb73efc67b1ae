"""Facts about GGUF model files that every layer shares: the header and its cache, names,
architectures, the memory arithmetic of fitting, recommended sampling, reasoning markers and
the tiny-model factory the tests build files with. Imports nothing of Hearth's above the base."""
