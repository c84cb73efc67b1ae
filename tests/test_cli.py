"""The command line, run as a real process, against the fake Hub and factory models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_REPO, run_env
from tests.fakehub import FakeHub


def hearth(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=run_env(),
    )


def test_version_and_usage_errors() -> None:
    result = hearth("--version")
    assert result.returncode == 0 and result.stdout.startswith("hearth ")
    bad = hearth("search", "--limit", "zero")
    assert bad.returncode == 2 and bad.stdout == ""


def test_search_and_files_json(fake_hub: FakeHub) -> None:
    result = hearth("search", "tiny", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "repo_id": TEST_REPO,
            "downloads": 1200,
            "likes": 34,
            "last_modified": "2026-10-01T12:00:00Z",
            "gated": False,
        }
    ]
    files = json.loads(hearth("files", TEST_REPO, "--json").stdout)
    by_name = {f["filename"]: f for f in files}
    assert by_name["tiny-llama.Q8_0.gguf"]["quant"] == "Q8_0"
    assert by_name["mmproj-tiny-llama-f16.gguf"]["quant"] is None
    assert by_name["README.md"] == {"filename": "README.md", "size_bytes": 13, "quant": None}
    table = hearth("search", "--sort", "likes")
    assert table.returncode == 0 and TEST_REPO in table.stdout and "DOWNLOADS" in table.stdout


def test_offline_search_fails_in_words() -> None:
    result = hearth("search", "gemma", "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: Can't reach the Hugging Face Hub")
    assert "Traceback" not in result.stderr


def test_hf_hub_offline_sends_nothing(fake_hub: FakeHub, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for args in (("search", "tiny"), ("files", TEST_REPO), ("pull", TEST_REPO, "tiny-llama-F32.gguf")):
        result = hearth(*args)
        assert result.returncode == 1 and result.stderr.startswith("error: Offline mode is on"), result.stderr
    assert fake_hub.requests == []


def test_pull_list_run(fake_hub: FakeHub, models_dir: Path) -> None:
    pulled = hearth("pull", TEST_REPO, "tiny-llama-F32.gguf", "--json")
    assert pulled.returncode == 0, pulled.stderr
    entry = json.loads(pulled.stdout)
    assert entry["path"] == str(models_dir / TEST_REPO / "tiny-llama-F32.gguf")
    assert entry["status"] == "ok" and entry["source"] == "hearth" and entry["quant"] == "F32"
    assert "tiny-llama-F32.gguf" in pulled.stderr  # progress goes to stderr

    again = hearth("pull", TEST_REPO, "tiny-llama-F32.gguf", "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == entry

    rows = json.loads(hearth("list", "--json").stdout)
    # A list row is the library entry and this computer's predicted speed for it.
    assert rows[0].pop("predicted_tg_tps") > 0
    assert rows == [entry]
    assert set(entry) == {
        "id", "name", "path", "source", "architecture", "parameters", "quant", "size_bytes",
        "shards", "context_length", "has_chat_template", "status", "reason",
    }  # fmt: skip

    run = hearth("run", entry["id"], "Say hello", "--max-tokens", "6", "--seed", "3", "--json")
    assert run.returncode == 0, run.stderr
    reply = json.loads(run.stdout)
    assert reply["completion_tokens"] == 6 and reply["text"]
    assert reply["gpu_layers"] == 0 and reply["backend"] == "cpu"
    assert {"prompt_tokens", "load_ms", "ttft_ms", "prompt_tps", "gen_tps"} <= set(reply)

    streamed = hearth("run", entry["path"], "Say hello", "--max-tokens", "6", "--seed", "3")
    assert streamed.returncode == 0
    assert streamed.stdout == reply["text"] + "\n"


def test_pull_refuses_unknown_files_and_run_refuses_broken_models(
    fake_hub: FakeHub, models_dir: Path
) -> None:
    missing = hearth("pull", TEST_REPO, "nope.gguf")
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    fake_hub.add_file(TEST_REPO, "../../evil.gguf", b"GGUF")  # a hostile listing
    escape = hearth("pull", TEST_REPO, "../../evil.gguf")
    assert escape.returncode == 1 and "Refusing" in escape.stderr
    broken = models_dir / "o" / "r" / "broken.gguf"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"GGUF\x03\x00\x00\x00")
    result = hearth("run", str(broken), "hi")
    assert result.returncode == 1 and "cannot be used" in result.stderr and "Traceback" not in result.stderr
    unknown = hearth("run", "no-such-model", "hi")
    assert unknown.returncode == 1 and "hearth list" in unknown.stderr


def test_quants_json_and_pull_by_quant(fake_hub: FakeHub, models_dir: Path) -> None:
    fake_hub.repos[TEST_REPO].gguf = {"total": 139_584}
    result = hearth("quants", TEST_REPO, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    q8 = next(r for r in rows if r["quant"] == "Q8_0")
    assert q8["files"] == ["tiny-llama.Q8_0.gguf"] and q8["shards"] == 1 and q8["fits"] == "fits"
    assert q8["bits_per_weight"] == round(q8["size_bytes"] * 8 / 139_584, 2)
    assert rows[-1] == {
        "quant": None,
        "kind": "mmproj",
        "files": ["mmproj-tiny-llama-f16.gguf"],
        "size_bytes": 64,
    }
    table = hearth("quants", TEST_REPO)
    assert "Q8_0" in table.stdout and "Practically lossless" in table.stdout

    pulled = hearth("pull", TEST_REPO, "Q8_0", "--json")
    assert pulled.returncode == 0, pulled.stderr
    assert json.loads(pulled.stdout)["path"] == str(models_dir / TEST_REPO / "tiny-llama.Q8_0.gguf")


def test_devices_json() -> None:
    result = hearth("devices", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and {"backend", "name", "type", "memory_total_bytes", "memory_free_bytes"} <= set(rows[0])
    [cpu] = [r for r in rows if r["type"] == "cpu"]
    # What is available now, not ggml's "all of it is free" (this process alone uses some)
    assert 0 < cpu["memory_free_bytes"] < cpu["memory_total_bytes"]


def test_list_shows_other_apps_and_rm_hides_or_deletes(models_dir: Path, tiny_model: Path) -> None:
    import os
    import shutil

    gpt4all = Path(os.environ["HOME"]) / ".local" / "share" / "nomic.ai" / "GPT4All" / "their-F32.gguf"
    gpt4all.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, gpt4all)
    ours = models_dir / "o" / "r" / "ours-F32.gguf"
    ours.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, ours)
    rows = {r["name"]: r for r in json.loads(hearth("list", "--json").stdout)}
    assert (rows["their-F32"]["source"], rows["ours-F32"]["source"]) == ("gpt4all", "hearth")

    hidden = json.loads(hearth("rm", rows["their-F32"]["id"], "--json").stdout)
    assert hidden["action"] == "hidden" and gpt4all.exists()
    assert [r["name"] for r in json.loads(hearth("list", "--json").stdout)] == ["ours-F32"]

    deleted = hearth("rm", rows["ours-F32"]["id"])
    assert deleted.returncode == 0 and "Deleted ours-F32" in deleted.stdout and not ours.exists()

    theirs = hearth("rm", str(gpt4all), "--delete-file", "--json")
    assert json.loads(theirs.stdout)["action"] == "deleted" and not gpt4all.exists()


def test_chats_and_export() -> None:
    from desktop.chats.store import ConversationStore
    from desktop.paths import hearth_paths

    store = ConversationStore(hearth_paths().chats_db)
    chat = store.create_conversation(model="/m/tiny.gguf")
    store.add_message(chat.id, "user", "Hello there")
    store.add_message(chat.id, "assistant", "General Kenobi", model="/m/tiny.gguf")
    store.close()
    rows = json.loads(hearth("chats", "--json").stdout)
    assert rows == [
        {
            "id": str(chat.id),
            "title": "Hello there",
            "model": "/m/tiny.gguf",
            "messages": 2,
            "updated": rows[0]["updated"],
        }
    ]
    exported = json.loads(hearth("export", str(chat.id), "--format", "json").stdout)
    assert exported["messages"][1]["content"] == "General Kenobi"
    md = hearth("export", str(chat.id))
    assert md.returncode == 0 and md.stdout.startswith("# Hello there")
    missing = hearth("export", "999")
    assert missing.returncode == 1 and "hearth chats" in missing.stderr


def test_template_prints_the_exact_prompt(tiny_model: Path, model_cache, tmp_path: Path) -> None:
    result = hearth("template", str(tiny_model), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {
        "prompt": "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
        "template_source": "gguf",
        "bos_added": True,
    }
    messages = tmp_path / "m.json"
    messages.write_text(json.dumps([{"role": "user", "content": "Only me"}]))
    plain = hearth("template", str(tiny_model), "--messages", str(messages), "--no-generation-prompt")
    assert plain.stdout == "<|im_start|>user\nOnly me<|im_end|>\n"
    evil = model_cache("evil-F32.gguf", chat_template="{{ ''.__class__.__mro__[1].__subclasses__() }}")
    fallback = hearth("template", str(evil), "--json")
    assert json.loads(fallback.stdout)["template_source"] == "fallback:chatml"
    assert "chat template failed" in fallback.stderr and "subclasses" not in fallback.stdout


def test_chat_streams_each_turn_and_keeps_the_conversation(tiny_model: Path) -> None:
    turns = "Hello\nAnd again\n/exit\nnever sent\n"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop",
            "chat",
            str(tiny_model),
            "--max-tokens",
            "5",
            "--system",
            "Be brief.",
        ],
        input=turns,
        capture_output=True,
        text=True,
        timeout=120,
        env=run_env(),
    )
    assert result.returncode == 0, result.stderr
    replies = result.stdout.splitlines()
    assert len(replies) == 2 and all(r.strip() for r in replies)
    [chat] = json.loads(hearth("chats", "--json").stdout)
    assert chat["messages"] == 4  # two turns of question and reply; the system prompt is the chat's own
    exported = json.loads(hearth("export", chat["id"], "--format", "json").stdout)
    assert [m["role"] for m in exported["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert exported["messages"][2]["content"] == replies[0]
    assert exported["messages"][2]["stats"]["completion_tokens"] == 5

    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop",
            "chat",
            str(tiny_model),
            "--continue",
            chat["id"],
            "--max-tokens",
            "3",
        ],
        input="One more\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=run_env(),
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(hearth("chats", "--json").stdout)[0]["messages"] == 6


def test_self_test_builds_a_model_writes_and_says_what_failed(tmp_path: Path) -> None:
    result = hearth("--self-test", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["tokens"] == 8 and report["backend"] == "cpu" and report["qt"]
    assert "CPU" in report["llama_cpp"] and report["model"] == "tiny model (built now)"
    human = hearth("--self-test")
    assert human.returncode == 0 and "tokens at" in human.stdout and "self-test passed" in human.stderr
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + bytes(100))
    failed = hearth("--self-test", "--model", str(broken))
    assert failed.returncode == 1 and failed.stderr.startswith("error: self-test failed: ")
    assert "Traceback" not in failed.stderr
