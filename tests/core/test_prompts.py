"""The courage-prompt library: its content, rotation and rendering."""

import re
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core.prompts import (
    PROMPT_MAX,
    PROMPTS,
    Hurdle,
    Prompt,
    by_id,
    choose_prompt,
    prompts_for,
    render,
    stable_seed,
)

ROOT = Path(__file__).resolve().parents[2]
CLICHES = (
    "you've got this",
    "you got this",
    "believe in yourself",
    "comfort zone",
    "no pressure",
    "just do it",
    "reach for the stars",
    "step up",
)
# The studies COACHING.md cites, as (author, year) pairs a citation may use.
KNOWN_CITATIONS = {
    ("Granovetter", "1974"),
    ("Levin", "2011"),
    ("Walter", "2015"),
    ("Liu", "2023"),
    ("Rajkumar", "2022"),
}


def texts(prompt: Prompt) -> list[str]:
    return [prompt.text, prompt.generic] if prompt.generic else [prompt.text]


def test_library_size_per_hurdle() -> None:
    assert len(PROMPTS) >= 48
    for hurdle in Hurdle:
        assert len(prompts_for(hurdle)) >= 6, hurdle
    assert sum(len(prompts_for(h)) for h in Hurdle) == len(PROMPTS)


def test_ids_are_unique_and_name_their_hurdle() -> None:
    ids = [prompt.id for prompt in PROMPTS]
    assert len(set(ids)) == len(ids)
    for prompt in PROMPTS:
        assert re.fullmatch(rf"{prompt.hurdle.slug}-\d\d", prompt.id), prompt.id
        assert by_id(prompt.id) is prompt
    assert by_id("courage-99") is None


def test_hurdles_have_titles() -> None:
    assert Hurdle.DOUBLE_STANDARD.title == "The double standard"
    titles = [hurdle.title for hurdle in Hurdle]
    assert all(titles) and len(set(titles)) == len(titles)
    assert [int(h) for h in Hurdle] == list(range(1, 9))


def test_prompts_naming_a_contact_have_a_generic_version() -> None:
    named = [prompt for prompt in PROMPTS if "{name}" in prompt.text]
    assert len(named) >= 8  # some prompts do name today's contact
    for prompt in named:
        assert prompt.generic, prompt.id
        assert "{" not in prompt.generic and "}" not in prompt.generic, prompt.id
    for prompt in PROMPTS:
        leftover = prompt.text.replace("{name}", "")
        assert "{" not in leftover and "}" not in leftover, prompt.id  # e.g. a "{nmae}" typo


def test_a_named_prompt_without_generic_is_rejected() -> None:
    with pytest.raises(ValueError, match="generic"):
        Prompt("x-01", Hurdle.COURAGE, "Call {name}.")
    with pytest.raises(ValueError, match="generic"):
        Prompt("x-02", Hurdle.COURAGE, "Call {name}.", "Call {name} anyway.")


def test_prompts_are_short() -> None:
    for prompt in PROMPTS:
        for text in texts(prompt):
            assert 20 <= len(text) <= PROMPT_MAX, (prompt.id, len(text))
        assert len(render(prompt, "Maximilian")) <= PROMPT_MAX + 20


def test_prompts_are_calm_and_cliche_free() -> None:
    for prompt in PROMPTS:
        for text in texts(prompt):
            assert "!" not in text, prompt.id
            assert "  " not in text and text == text.strip(), prompt.id
            assert text[0].isupper() and text[-1] in ".?\"'", prompt.id
            lowered = text.casefold().replace("’", "'")
            assert not [c for c in CLICHES if c in lowered], prompt.id


def test_the_evidence_is_cited_sparingly_and_only_from_the_known_studies() -> None:
    cited = [p for p in PROMPTS if re.search(r"\b(19|20)\d\d\)", p.text)]
    assert 3 <= len(cited) <= 8
    for prompt in cited:
        pairs = {(a, y) for a, y in KNOWN_CITATIONS if a in prompt.text and y in prompt.text}
        assert pairs, prompt.id


def test_forms_vary_within_each_hurdle() -> None:
    for hurdle in Hurdle:
        prompts = prompts_for(hurdle)
        assert any("?" in p.text for p in prompts), hurdle  # at least one question
        assert any("?" not in p.text for p in prompts), hurdle  # and at least one statement


def test_mind_reading_asks_for_a_prediction() -> None:
    assert any(
        "guess" in p.text.lower() or "how likely" in p.text.lower()
        for p in prompts_for(Hurdle.MIND_READING)
    )


# --- Rotation -------------------------------------------------------------------------------


def simulate(user: str, days: int, hurdle_of_day: dict[int, Hurdle] | None = None) -> list[Prompt]:
    """Show one prompt a day to ``user``, as the morning job would, and return them in order."""
    shown: Counter[str] = Counter()
    seen: list[Prompt] = []
    start = date(2025, 1, 6)
    hurdles = list(Hurdle)
    for offset in range(days):
        day = start + timedelta(days=offset)
        seed = stable_seed(user, day.isoformat())
        hurdle = (hurdle_of_day or {}).get(offset, hurdles[seed % len(hurdles)])
        prompt = choose_prompt(hurdle, shown, seed)
        assert prompt.hurdle is hurdle
        shown[prompt.id] += 1
        seen.append(prompt)
    return seen


@pytest.mark.parametrize("user", ["slack:T1:U1", "teams:tenant:abc", "slack:T9:U42"])
def test_no_prompt_repeats_within_a_hurdle_before_the_rest_were_shown(user: str) -> None:
    seen = simulate(user, 600)
    for hurdle in Hurdle:
        ids = [p.id for p in seen if p.hurdle is hurdle]
        size = len(prompts_for(hurdle))
        assert len(ids) >= 2 * size, hurdle  # the simulation went round at least twice
        for start in range(0, len(ids), size):
            cycle = ids[start : start + size]
            assert len(set(cycle)) == len(cycle), (hurdle, start, cycle)
            if len(cycle) == size:
                assert set(cycle) == {p.id for p in prompts_for(hurdle)}


def test_the_least_shown_prompt_wins() -> None:
    courage = prompts_for(Hurdle.COURAGE)
    shown = {p.id: 3 for p in courage}
    shown[courage[4].id] = 2
    shown["about-them-01"] = 0  # other hurdles don't count
    shown["courage-retired"] = 0  # nor do ids that no longer exist
    for seed in range(20):
        assert choose_prompt(Hurdle.COURAGE, shown, seed) == courage[4]


def test_a_prompt_never_shown_comes_before_the_others_repeat() -> None:
    listening = prompts_for(Hurdle.LISTENING)
    shown = {p.id: 1 for p in listening[:-1]}  # as if the last one was added to the library later
    assert choose_prompt(Hurdle.LISTENING, shown, 12345) == listening[-1]


def test_choice_is_deterministic_and_the_seed_spreads_it() -> None:
    for hurdle in Hurdle:
        picks = [choose_prompt(hurdle, {}, seed).id for seed in range(200)]
        assert picks == [choose_prompt(hurdle, {}, seed).id for seed in range(200)]
        counts = Counter(picks)
        assert len(counts) == len(prompts_for(hurdle)), hurdle  # every prompt gets a turn
        assert max(counts.values()) < 200 * 0.35, counts  # and none dominates


def test_different_users_see_different_orders() -> None:
    days = {offset: Hurdle.COURAGE for offset in range(7)}
    first = [p.id for p in simulate("slack:T1:U1", 7, days)]
    second = [p.id for p in simulate("slack:T1:U2", 7, days)]
    assert sorted(first) == sorted(second)  # both see all seven...
    assert first != second  # ...in different orders


def test_stable_seed_is_the_same_in_every_process() -> None:
    assert stable_seed("slack:T1:U1", "2025-06-02") == 12544529756369627521
    code = "from bot.core.prompts import stable_seed; print(stable_seed('a', 'b'))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={"PYTHONHASHSEED": str(hash_seed), "PYTHONPATH": str(ROOT)},
        ).stdout.strip()
        for hash_seed in (1, 2)
    }
    assert outputs == {str(stable_seed("a", "b"))}
    assert stable_seed("a", "b") != stable_seed("ab") != stable_seed("b", "a")


# --- Rendering ------------------------------------------------------------------------------

NAMED = by_id("double-standard-01")
PLAIN = by_id("double-standard-02")


def test_render_fills_in_the_name() -> None:
    assert NAMED is not None
    text = render(NAMED, "Dana")
    assert text.startswith("Would you mind if Dana called you")
    assert text.count("Dana") == 2 and "{name}" not in text


@pytest.mark.parametrize("name", [None, "", "   "])
def test_render_without_a_name_uses_the_generic_text(name: str | None) -> None:
    assert NAMED is not None
    assert render(NAMED, name) == NAMED.generic
    assert "{" not in render(NAMED, name)


def test_render_is_safe_with_braces_in_the_name() -> None:
    assert NAMED is not None
    text = render(NAMED, "{0} {name}")
    assert text.startswith("Would you mind if {0} {name} called you")
    assert text == NAMED.text.replace("{name}", "{0} {name}")


def test_render_of_a_prompt_without_a_name_ignores_the_name() -> None:
    assert PLAIN is not None
    assert render(PLAIN, "Dana") == PLAIN.text == render(PLAIN, None)


def test_render_tidies_the_name() -> None:
    assert NAMED is not None
    assert render(NAMED, "  Dana \n") == render(NAMED, "Dana")


def test_choose_prompt_is_the_least_score_among_the_least_shown() -> None:
    """The written-out choice equals its definition: among the hurdle's least-shown candidates,
    the least ``_score`` of the seed and the prompt id, ties by id."""
    import random

    from bot.core.courage import NEEDS_PREDICTION
    from bot.core.prompts import _candidates, _score

    rng = random.Random(14)
    checked = 0
    for hurdle in Hurdle:
        for exclude in ((), NEEDS_PREDICTION, tuple(NEEDS_PREDICTION)):
            for cards in (True, False):
                candidates = _candidates(hurdle, frozenset(exclude), cards)
                for _ in range(60):
                    seed = rng.getrandbits(rng.choice((8, 64, 70)))
                    shown = {
                        p.id: rng.choice((0, 0, 1, 2)) for p in candidates if rng.random() < 0.5
                    }
                    counts = [shown.get(p.id, 0) for p in candidates]
                    expected = min(
                        (_score(seed, p.id), p.id, p)
                        for p, count in zip(candidates, counts, strict=True)
                        if count == min(counts)
                    )[2]
                    assert choose_prompt(hurdle, shown, seed, exclude, cards=cards) is expected
                    checked += 1
    assert checked == len(Hurdle) * 3 * 2 * 60
