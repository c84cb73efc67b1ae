from __future__ import annotations

from desktop.gguf.speed import rule_of_thumb, speed_verdict
from desktop.hub.search import HubModel, SearchFilters, search_models
from desktop.hub.starters import load_starters, starters_for
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub

GB = 1_000_000_000


def test_starters_are_chosen_for_the_memory_and_speed_at_hand() -> None:
    assert len(load_starters()) >= 10
    # A two-core laptop with plenty of memory: a small model it writes at a usable speed comes
    # first, never the 14B it can hold but would write at a word a second (tests/test_speed_choices).
    laptop = starters_for(24 * GB, cores=2)
    assert laptop[0][0].size_bytes < 2 * GB and laptop[-1][0].repo_id != laptop[0][0].repo_id
    assert speed_verdict(laptop[0][0].predicted_tg_tps(rule_of_thumb(2)), True) != "slow"
    slow = [s.size_bytes for s, fit in laptop if fit == "fits" and s.predicted_tg_tps(rule_of_thumb(2)) < 5]
    assert slow == sorted(slow)  # then the ones that fit but are slow, the quickest first
    # A GPU that holds them: the most capable first
    assert starters_for(40 * GB, cores=8, gpu_bytes=24 * GB)[0][0].repo_id == "Qwen/Qwen3-14B-GGUF"
    small = starters_for(4 * GB, cores=2)
    assert all(s.size_bytes < 3 * GB for s, _ in small) and small
    assert [fit for _, fit in small] == sorted((fit for _, fit in small), key=["fits", "tight"].index)
    assert starters_for(100 * 1024**2) == []


def test_search_filters_keep_what_matches() -> None:
    def model(params: int | None) -> HubModel:
        return HubModel("o/m", 0, 0, None, False, parameters=params)

    assert SearchFilters().keep(model(None))
    between = SearchFilters(min_parameters=2 * GB, max_parameters=8 * GB)
    assert [between.keep(model(p)) for p in (1 * GB, 2 * GB, 7 * GB, 8 * GB, None)] == [
        False,
        True,
        True,
        False,
        False,
    ]
    fits = SearchFilters(fits_within_bytes=8 * GB)
    assert fits.keep(model(3 * GB)) and not fits.keep(model(12 * GB))


def test_search_carries_parameter_counts(fake_hub: FakeHub) -> None:
    fake_hub.repos[TEST_REPO].gguf = {"total": 139_584}
    [found] = search_models("tiny")
    assert found.parameters == 139_584 and found.typical_size_bytes() == int(139_584 * 4.85 / 8)
    assert [m.repo_id for m in search_models("", author="someone")] == ["someone/Other-Model-GGUF"]
