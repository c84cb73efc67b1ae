"""The worker's failures in words: a runaway allocation under its heap ceiling, and
llama.cpp's own reason when a malformed model file makes it abort or refuse."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.engine.client import EngineClient, EngineFailure
from desktop.engine.heap_limit import CEILING_ENV
from desktop.engine.protocol import ChatMessage, LoadOptions, Sampling

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA is Linux's")


@pytest.fixture
def client():
    c = EngineClient()
    yield c
    c.shutdown(wait=False)


@linux_only
@pytest.mark.timeout(60)
def test_a_runaway_allocation_under_the_heap_ceiling_is_an_error_in_words(
    client: EngineClient, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A ceiling of 600 MB for this worker; a 4M-token context asks for about 1.2 GB (which
    # a worker without a ceiling takes, as it would take 30 GB on a machine that has 16).
    monkeypatch.setenv(CEILING_ENV, str(600 * 1000 * 1000))
    client.load(LoadOptions(str(tiny_model), n_ctx=4_000_000, n_batch=8, n_ubatch=8))
    with pytest.raises(EngineFailure) as failed:
        client.wait_loaded(timeout=50)
    assert "Not enough memory to load the model" in str(failed.value)
    assert "Traceback" not in str(failed.value)
    # The worker lives on, under its ceiling, and loads what fits.
    pid = client.worker_pid
    client.load(LoadOptions(str(tiny_model)))
    assert client.wait_loaded(timeout=50).n_ctx > 0
    assert client.worker_pid == pid
    limits = Path(f"/proc/{pid}/limits").read_text(encoding="utf-8").splitlines()
    line = next(ln for ln in limits if ln.startswith("Max data size"))
    assert line.split()[3] == str(600 * 1000 * 1000)


@pytest.mark.timeout(60)
def test_llama_cpps_abort_on_a_malformed_model_is_reported_in_its_own_words(
    client: EngineClient, model_cache: Callable[..., Path]
) -> None:
    # Four query heads over three KV heads pass the header checks and every tensor's shape,
    # then fail a GGML_ASSERT in llama.cpp's first graph, which aborts the process.
    model = model_cache("kv3-F32.gguf", n_head=4, n_head_kv=3)
    start = time.monotonic()
    client.load(LoadOptions(str(model)))
    with pytest.raises(EngineFailure) as failed:
        client.wait_loaded(timeout=50)
    message = str(failed.value)
    assert "SIGABRT" in message
    assert "GGML_ASSERT(ggml_can_mul_mat(k, q)) failed (ggml.c:" in message
    assert "while loading the model" in message and "damaged" in message
    assert "/" not in message.split("last words:")[1]  # no source path of the build machine
    assert time.monotonic() - start < 30  # no debugger attached to print a backtrace


@pytest.mark.timeout(60)
def test_llama_cpps_refusal_of_a_malformed_model_is_reported_in_its_own_words(
    client: EngineClient, model_cache: Callable[..., Path]
) -> None:
    model = model_cache("heads3-F32.gguf", n_head=3)  # 64 wide, 3 heads: tensors the wrong shape
    client.load(LoadOptions(str(model)))
    with pytest.raises(EngineFailure) as failed:
        client.wait_loaded(timeout=50)
    assert "llama.cpp could not load this model" in str(failed.value)
    assert "tensor 'blk.0.attn_q.weight' has wrong shape" in str(failed.value)


@linux_only
@pytest.mark.timeout(90)
def test_a_runaway_allocation_in_a_reply_is_reported_as_out_of_memory(
    client: EngineClient, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100 MB to tokenize: llama.cpp's tokenizer asks for hundreds of MB more than the 700 MB
    # ceiling leaves (without one, it tokenizes it all and says it does not fit the context).
    monkeypatch.setenv(CEILING_ENV, str(700 * 1000 * 1000))
    client.load(LoadOptions(str(tiny_model)))
    client.wait_loaded(timeout=50)
    request = client.chat([ChatMessage("user", "a" * 100_000_000)], Sampling(max_tokens=2))
    with pytest.raises(EngineFailure) as failed:
        list(client.stream(request, timeout=60))
    assert "out of memory" in str(failed.value)
    # The next load starts a new worker, and it works.
    client.load(LoadOptions(str(tiny_model)))
    assert client.wait_loaded(timeout=50).n_ctx > 0
