"""Drafting conversation openers from what the user knows about a contact."""

import re
from datetime import date, timedelta

import pytest

from bot.core.model import Contact
from bot.core.openers import FRAGMENT_MAX, OPENER_MAX, first_interest, interest_fragments, openers

TODAY = date(2025, 6, 2)
PITCH = re.compile(
    r"\b(jobs?|hire me|hiring|favou?rs?|resumes?|résumé|cv|looking for work)\b", re.I
)
PRONOUNS = re.compile(r"\b(he|she|his|her|hers|him)\b", re.I)


def rich(**changes: object) -> Contact:
    contact = Contact(
        id=1,
        name="Dana Whitfield",
        company_role="CFO at Brightline",
        how_known="She was my boss at Brightline 2016–2020",
        notes="just promoted to COO; sails every summer, two kids in college",
        last_note="talked about the Lisbon expansion",
        last_contacted_on=date(2024, 3, 1),
    )
    for key, value in changes.items():
        setattr(contact, key, value)
    return contact


def assert_well_formed(drafts: list[str]) -> None:
    assert 2 <= len(drafts) <= 3, drafts
    assert len(set(drafts)) == len(drafts), drafts
    for text in drafts:
        assert 20 < len(text) <= OPENER_MAX, text
        assert "{" not in text and "}" not in text, text
        assert "None" not in text, text
        assert "  " not in text and text == text.strip(), text
        assert "\n" not in text, text
        assert "?" in text, text  # every opener asks the other person something
        # No empty or dangling fragments: "()", ": .", " ,", ",,", ". ." and the like.
        assert not re.search(r"\(\s*\)|:\s*[.,?]|\s[.,;:?]|[,;]{2}|\.\s*\.(?!\.)", text), text
        assert not PITCH.search(text), text


# --- interest_fragments --------------------------------------------------------------------


def test_fragments_split_on_semicolons_commas_and_newlines() -> None:
    notes = "just promoted to COO; sails every summer, two kids in college\nloves jazz"
    assert interest_fragments(notes) == [
        "just promoted to COO",
        "sails every summer",
        "two kids in college",
        "loves jazz",
    ]


def test_fragments_keep_numbers_and_abbreviations_whole() -> None:
    notes = "Raised 1,500 dollars for charity. Moved to St. Louis in 2020. Runs marathons."
    assert interest_fragments(notes) == [
        "Raised 1,500 dollars for charity",
        "Moved to St. Louis in 2020",
        "Runs marathons",
    ]


def test_fragments_are_tidied_and_deduplicated() -> None:
    notes = '- loves jazz.;; ,  , "loves JAZZ" ; 🎉 ; "unclosed quote; {name} plays chess; • x'
    assert interest_fragments(notes) == ["loves jazz", "unclosed quote", "name plays chess"]


def test_fragments_keep_balanced_quotes_and_other_scripts() -> None:
    notes = 'calls it "the boat"; Живёт в Берлине; 猫; 喜欢爬山、读书'
    assert interest_fragments(notes) == [
        'calls it "the boat"',
        "Живёт в Берлине",
        "猫",
        "喜欢爬山",
        "读书",
    ]


def test_long_fragments_are_cut_sensibly() -> None:
    clause = "spent three years building the Lisbon office from scratch - then ran all of Iberia"
    words = " ".join(["wonderful"] * 40)
    script = "长" * 300
    fragments = interest_fragments(f"{clause} and more; {words}; {script}")
    assert fragments[0] == "spent three years building the Lisbon office from scratch"
    assert fragments[1].endswith("wonderful…")  # cut between words
    assert fragments[2] == "长" * (FRAGMENT_MAX - 1) + "…"  # no spaces: cut anywhere
    assert all(len(f) <= FRAGMENT_MAX for f in fragments)


def test_no_fragments_from_nothing() -> None:
    assert interest_fragments("") == []
    assert interest_fragments(" ;,\n - • 🎉 ?!") == []


# --- openers --------------------------------------------------------------------------------


def test_rich_contact_gets_openers_about_them() -> None:
    drafts = openers(rich(), today=TODAY)
    assert_well_formed(drafts)
    assert len(drafts) == 3
    assert all(d.startswith("Hi Dana,") for d in drafts)
    joined = " ".join(drafts)
    assert "COO" in joined  # the promotion, their latest win
    assert "Lisbon expansion" in joined  # the last conversation
    assert "Brightline" in joined  # their company
    assert "over a year" in joined  # last logged 15 months ago


def test_each_known_interest_can_be_drafted() -> None:
    contact = rich()
    mentioned = {
        fragment
        for seed in range(12)
        for draft in openers(contact, today=TODAY, seed=seed)
        for fragment in ("COO", "sails every summer", "two kids in college")
        if fragment.casefold() in draft.casefold()
    }
    assert mentioned == {"COO", "sails every summer", "two kids in college"}


def test_openers_are_deterministic() -> None:
    for seed in (0, 1, 7):
        assert openers(rich(), today=TODAY, seed=seed) == openers(rich(), today=TODAY, seed=seed)
    assert openers(rich(), today=TODAY, seed=0) != openers(rich(), today=TODAY, seed=1)


def test_empty_contact_gets_two_generic_openers() -> None:
    for seed in range(6):
        drafts = openers(Contact(id=1, name="Dana Whitfield"), today=TODAY, seed=seed)
        assert_well_formed(drafts)
        assert len(drafts) == 2
        assert all(d.startswith("Hi Dana, ") for d in drafts)


def test_a_contact_without_a_usable_name_gets_a_plain_greeting() -> None:
    for name in ("", "🙂", "X" * 60):
        drafts = openers(Contact(id=1, name=name), today=TODAY)
        assert_well_formed(drafts)
        assert all(d.startswith("Hi, ") for d in drafts), drafts


def test_the_shared_past_comes_from_how_they_met() -> None:
    contact = Contact(id=1, name="Dana", how_known="She was my boss at Brightline 2016–2020")
    drafts = openers(contact, today=TODAY)
    assert_well_formed(drafts)
    shared = [d for d in drafts if "at Brightline" in d]
    assert len(shared) == 1 and "2016" not in shared[0] and "boss" not in shared[0]


def test_no_place_is_invented_from_a_lowercase_phrase() -> None:
    contact = Contact(id=1, name="Dana", how_known="we met at a conference, she looked at my code")
    drafts = openers(contact, today=TODAY)
    assert_well_formed(drafts)
    assert not any("conference" in d or "my code" in d for d in drafts)


def test_the_first_capitalised_place_after_at_is_used() -> None:
    contact = Contact(
        id=1, name="Dana", how_known="looked at my code when we were both at Acme Corp"
    )
    drafts = openers(contact, today=TODAY)
    assert_well_formed(drafts)
    assert any("at Acme Corp" in d for d in drafts)
    assert not any("my code" in d for d in drafts)


def test_a_role_without_a_company_is_still_used() -> None:
    drafts = openers(Contact(id=1, name="Sam Lee", company_role="Head of Design"), today=TODAY)
    assert_well_formed(drafts)
    assert any("(Head of Design)" in d for d in drafts)


@pytest.mark.parametrize(
    ("last", "phrase"),
    [
        (TODAY - timedelta(days=5), "recently"),
        (TODAY - timedelta(days=40), "a few weeks ago"),
        (TODAY - timedelta(days=200), "a few months"),
        (TODAY - timedelta(days=500), "over a year"),
        (TODAY - timedelta(days=1200), "a few years"),
    ],
)
def test_the_time_since_the_last_talk_sets_the_tone(last: date, phrase: str) -> None:
    drafts = openers(Contact(id=1, name="Dana", last_contacted_on=last), today=TODAY)
    assert_well_formed(drafts)
    assert phrase in drafts[0]


@pytest.mark.parametrize("last", [None, TODAY + timedelta(days=3)])
def test_unknown_or_future_last_talk_claims_nothing(last: date | None) -> None:
    drafts = openers(Contact(id=1, name="Dana", last_contacted_on=last), today=TODAY)
    assert_well_formed(drafts)
    assert not any("since we talked" in d or "catch up" in d for d in drafts)


ODD_CONTACTS = [
    Contact(id=1, name="Олег Петров", notes="любит джаз; Живёт в Берлине ⛵", company_role="CTO"),
    Contact(id=2, name="李小龍", notes="喜欢爬山，读书。", how_known="在北京认识"),
    Contact(id=3, name="Zoë 🎉", notes="🎉🎉; 🚀 launched the app 🚀; ⛵", last_note="🙂"),
    Contact(id=4, name="Dana", notes="x" * 1500),
    Contact(id=5, name="Dana", notes=("sails every summer and " * 70)[:1500]),
    Contact(id=6, name="Dana", notes='"loves jazz; says "never again" about startups; \'quoted\''),
    Contact(id=7, name="Dana", notes="{name} {0} {}; None; ;;;", company_role="{role}"),
    Contact(id=8, name="{x}", notes="(unclosed bracket; [also", last_note=" ( ) "),
    Contact(
        id=9,
        name="Maximiliana-Alexandrina",
        notes="just promoted to " + "Chief Executive Officer of Very Long Company Name " * 5,
        company_role="Chief Executive Officer at " + "Enormous " * 20 + "Holdings",
        how_known="Worked together at " + "Giant " * 20 + "Inc",
        last_note="w" * 500,
        last_contacted_on=date(2019, 1, 1),
    ),
    Contact(id=10, name="Dana", notes="\u200b\ufeff\t  \n\n", how_known="  ", last_note="\n"),
]


@pytest.mark.parametrize("contact", ODD_CONTACTS, ids=lambda c: str(c.id))
def test_odd_input_still_gives_clean_openers(contact: Contact) -> None:
    for seed in range(4):
        assert_well_formed(openers(contact, today=TODAY, seed=seed))


def test_long_notes_are_quoted_in_short_pieces() -> None:
    drafts = openers(ODD_CONTACTS[4], today=TODAY)
    assert_well_formed(drafts)
    assert "sails every summer" in drafts[0]
    assert drafts[0].count("sails every summer") == 1


def test_openers_never_pitch_and_use_no_pronouns() -> None:
    contacts = [
        rich(),
        rich(how_known="Worked together at Brightline", last_note="the board offsite"),
        Contact(id=2, name="Dana"),
        Contact(id=3, name="Sam", company_role="Brightline", last_contacted_on=date(2025, 5, 1)),
        *ODD_CONTACTS,
    ]
    for contact in contacts:
        for seed in range(8):
            for text in openers(contact, today=TODAY, seed=seed):
                assert not PITCH.search(text), text
                assert not PRONOUNS.search(text), text


def test_the_checks_catch_bad_drafts() -> None:
    """The well-formedness checks above would catch the mistakes they are meant to catch."""
    bad = [
        "Hi Dana, any job openings at Brightline?",
        "Hi Dana, last I heard: None. How's that going?",
        "Hi Dana, last I heard: {fragment}. How's that going?",
        "Hi Dana, I was thinking about your work (). What's new?",
        "Hi Dana,  what's new?",
        "Hi Dana, last I heard: . How's that going?",
    ]
    for text in bad:
        with pytest.raises(AssertionError):
            assert_well_formed([text, "Hi Dana, how are things these days?"])


def test_first_interest_is_the_first_fragment() -> None:
    notes = [
        "",
        "   ",
        "n/a; none",
        "just promoted to COO; sails every summer, two kids in college",
        "None; loves jazz",
        "{weird} • “quoted” · 猫",
        "x" * 400,
    ]
    for note in notes:
        fragments = interest_fragments(note)
        assert first_interest(note) == (fragments[0] if fragments else None), note
