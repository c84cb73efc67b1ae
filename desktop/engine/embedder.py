"""Embeddings from a loaded model, through a second llama.cpp context on the same weights.

The chat's context keeps its KV cache (the next turn still reuses its prompt); this one is made
with ``embeddings`` on and pools each text's token states into one vector: by the model's own
pooling where its GGUF names one (an embedding model's CLS, mean or last token), by their mean
for a generative model, which has none. Each vector is scaled to length 1, as OpenAI's and
Ollama's are, so that a dot product is the cosine. Texts are decoded up to 16 at a time, each as
a sequence of its own in one batch; a vector then differs from the same text's alone only by
rounding (the batch's shape changes the order of the sums).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_EMBED_CTX = 2048  # tokens a text may have: the whole text is one batch for pooling
MAX_SEQUENCES = 16  # texts decoded together in one batch, each as a sequence of its own


class EmbeddingError(RuntimeError):
    """A text that cannot be embedded, in words; ``kind`` "context" when it is too long."""

    def __init__(self, message: str, kind: str = "embed") -> None:
        super().__init__(message)
        self.kind = kind


def pooling_name(metadata: dict[str, str], architecture: str | None) -> str:
    """How the model pools: its GGUF's ``<arch>.pooling_type``, or mean for a generative model."""
    value = metadata.get(f"{architecture}.pooling_type", "") if architecture else ""
    return {"1": "mean", "2": "cls", "3": "last", "4": "rank"}.get(str(value), "mean (generative model)")


class Embedder:
    """The embedding context; ``close`` frees it (the weights stay with the chat's ``Llama``)."""

    def __init__(self, llm: Any, n_threads: int, metadata: dict[str, str], architecture: str | None) -> None:
        import llama_cpp as ll

        self._ll = ll
        self._llm = llm
        self.pooling = pooling_name(metadata, architecture)
        if self.pooling == "rank":
            raise EmbeddingError(
                "This model is a reranker: it scores pairs of texts, it has no embeddings.", "unsupported"
            )
        params = ll.llama_context_default_params()
        self.n_ctx = min(int(llm.n_ctx()), MAX_EMBED_CTX)
        params.n_ctx = params.n_batch = params.n_ubatch = self.n_ctx
        params.n_seq_max = MAX_SEQUENCES
        params.kv_unified = True  # the sequences share the context's cells (else each gets 1/16)
        params.n_threads = params.n_threads_batch = n_threads
        params.embeddings = True
        own = not self.pooling.startswith("mean (")
        params.pooling_type = ll.LLAMA_POOLING_TYPE_UNSPECIFIED if own else ll.LLAMA_POOLING_TYPE_MEAN
        self._ctx = ll.llama_init_from_model(llm.model, params)
        if not self._ctx:
            raise EmbeddingError("llama.cpp could not make a context for embeddings with this model.")
        self.dimensions = int(ll.llama_model_n_embd(llm.model))
        self._encoder_only = bool(ll.llama_model_has_encoder(llm.model)) and not bool(
            ll.llama_model_has_decoder(llm.model)
        )

    def tokens(self, text: str, truncate: bool) -> list[int]:
        """The text's tokens, cut to the context (``truncate``) or EmbeddingError when too long."""
        tokens: list[int] = self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        eos = int(self._llm.token_eos())
        if self._encoder_only and eos >= 0 and (not tokens or tokens[-1] != eos):
            tokens.append(eos)  # BERT-like models end a text with [SEP]
        if not tokens:
            raise EmbeddingError("An input is empty: there is nothing to embed.")
        if len(tokens) > self.n_ctx:
            if not truncate:
                raise EmbeddingError(
                    f"An input has {len(tokens):,} tokens; embeddings take at most {self.n_ctx:,}.",
                    "context",
                )
            tokens = tokens[: self.n_ctx]
        return tokens

    def embed(self, texts: Sequence[Sequence[int]]) -> list[list[float]]:
        """The texts' pooled embeddings, each of length 1: several texts a batch, each its own
        sequence, as many as fit the context together."""
        vectors: list[list[float]] = []
        batch: list[Sequence[int]] = []
        for tokens in texts:
            if batch and (len(batch) == MAX_SEQUENCES or sum(map(len, batch)) + len(tokens) > self.n_ctx):
                vectors += self._batch(batch)
                batch = []
            batch.append(tokens)
        if batch:
            vectors += self._batch(batch)
        return vectors

    def _batch(self, texts: Sequence[Sequence[int]]) -> list[list[float]]:
        import numpy as np

        ll = self._ll
        ll.llama_memory_clear(ll.llama_get_memory(self._ctx), True)
        total = sum(map(len, texts))
        batch = ll.llama_batch_init(total, 0, 1)
        try:
            i = 0
            for seq, tokens in enumerate(texts):
                for pos, token in enumerate(tokens):
                    batch.token[i] = token
                    batch.pos[i] = pos
                    batch.n_seq_id[i] = 1
                    batch.seq_id[i][0] = seq
                    batch.logits[i] = True
                    i += 1
            batch.n_tokens = total
            run = ll.llama_encode if self._encoder_only else ll.llama_decode
            status = run(self._ctx, batch)
        finally:
            ll.llama_batch_free(batch)
        if status != 0:
            raise EmbeddingError(
                f"llama.cpp could not read the texts for their embeddings (status {status})."
            )
        vectors = []
        for seq in range(len(texts)):
            pointer = ll.llama_get_embeddings_seq(self._ctx, seq)
            if not pointer:
                raise EmbeddingError("llama.cpp gave no pooled embedding for this model.")
            vector = np.array(np.ctypeslib.as_array(pointer, shape=(self.dimensions,)), dtype=np.float64)
            norm = float(np.linalg.norm(vector))
            vectors.append([float(x) for x in (vector / norm if norm > 0 else vector)])
        return vectors

    def close(self) -> None:
        if self._ctx is not None:
            self._ll.llama_free(self._ctx)
            self._ctx = None
