from __future__ import annotations

from desktop.hub.search import HubModel, SearchFilters, search_models
from desktop.hub.starters import load_starters, starters_for
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub

GB = 1_000_000_000


def test_starters_are_chosen_for_the_memory_at_hand() -> None:
    assert len(load_starters()) >= 10
    big = [s.repo_id for s, fit in starters_for(16 * GB)]
    assert big[0] == "Qwen/Qwen3-14B-GGUF"
    small = starters_for(4 * GB)
    assert all(s.size_bytes < 3 * GB for s, _ in small) and small
    assert [fit for _, fit in small] == sorted((fit for _, fit in small), key=["fits", "tight"].index)
    sizes = [s.size_bytes for s, fit in small if fit == "fits"]
    assert sizes == sorted(sizes, reverse=True)  # the most capable that fits comes first
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
