"""Drafting conversation openers from what the user knows about a contact."""

import re
from datetime import date, timedelta

import pytest

from bot.core.model import Contact
from bot.core.openers import (
    FRAGMENT_MAX,
    OPENER_MAX,
    copy_text,
    first_interest,
    interest_fragments,
    mailto,
    openers,
    questions,
    seed_for,
    talking_point,
)

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
    drafts = openers(rich(), today=TODAY, seed=0)
    assert_well_formed(drafts)
    assert len(drafts) == 3
    assert all(d.startswith("Hi Dana,") for d in drafts)
    assert "becoming COO" in drafts[0]  # the promotion, their latest win, comes first
    assert "over a year" in drafts[0]  # last logged 15 months ago
    assert "Lisbon expansion" not in " ".join(drafts)  # never quoted


def test_every_topic_can_be_drafted_on_some_day() -> None:
    contact = rich()
    joined = " ".join(
        draft for seed in range(20) for draft in openers(contact, today=TODAY, seed=seed)
    )
    for phrase in ("becoming COO", "sailing", "the kids", "Brightline", "last conversation"):
        assert phrase in joined, phrase


def test_openers_are_deterministic_and_vary_with_the_seed() -> None:
    for seed in (0, 1, 7):
        assert openers(rich(), today=TODAY, seed=seed) == openers(rich(), today=TODAY, seed=seed)
    assert len({tuple(openers(rich(), today=TODAY, seed=s)) for s in range(8)}) > 1


def test_the_default_seed_is_the_contact_and_the_day() -> None:
    contact = rich()
    assert openers(contact, today=TODAY) == openers(
        contact, today=TODAY, seed=seed_for(contact.id, TODAY)
    )
    assert seed_for(1, TODAY) != seed_for(2, TODAY)
    assert seed_for(1, TODAY) != seed_for(1, TODAY + timedelta(days=1))


def test_empty_contact_gets_two_generic_openers() -> None:
    for seed in range(6):
        drafts = openers(Contact(id=1, name="Dana Whitfield"), today=TODAY, seed=seed)
        assert_well_formed(drafts)
        assert len(drafts) == 2
        assert all(d.startswith("Hi Dana, ") for d in drafts)


def test_a_contact_without_a_usable_name_gets_a_plain_greeting() -> None:
    for name in ("", "🙂", "X" * 60, "Dr."):
        drafts = openers(Contact(id=1, name=name), today=TODAY)
        assert_well_formed(drafts)
        assert all(d.startswith("Hi, ") for d in drafts), drafts


@pytest.mark.parametrize(
    ("name", "preferred", "greeting"),
    [
        ("Dr. Amara Okafor", "", "Hi Dr. Okafor,"),
        ("Dr. Amara Okafor", "Amara", "Hi Amara,"),
        ("WANG Li", "", "Hi Li,"),
        ("Prof. WANG Li", "", "Hi Prof. Wang,"),
        ("李小龍", "", "Hi 李小龍,"),
        ('Robert "Bob" Smith', "", "Hi Bob,"),
        ("DANA WHITFIELD", "", "Hi Dana,"),
        ("Dana Whitfield", "Dee", "Hi Dee,"),
    ],
)
def test_people_are_addressed_properly(name: str, preferred: str, greeting: str) -> None:
    contact = Contact(id=1, name=name, preferred_name=preferred)
    assert all(d.startswith(greeting + " ") for d in openers(contact, today=TODAY))


def test_the_shared_past_comes_from_how_they_met() -> None:
    contact = Contact(id=1, name="Dana", how_known="She was my boss at Brightline 2016–2020")
    joined = " ".join(d for s in range(6) for d in openers(contact, today=TODAY, seed=s))
    assert "at Brightline" in joined
    assert "2016" not in joined and "boss" not in joined


def test_no_place_is_invented_from_a_lowercase_phrase() -> None:
    contact = Contact(id=1, name="Dana", how_known="we met at a conference, she looked at my code")
    drafts = openers(contact, today=TODAY)
    assert_well_formed(drafts)
    assert not any("conference" in d or "my code" in d for d in drafts)


def test_former_roles_are_not_asked_about_as_current() -> None:
    for role in ("former CFO at Brightline", "ex-Brightline", "CFO at Brightline 2016–2020"):
        contact = Contact(id=1, name="Dana", company_role=role)
        joined = " ".join(d for s in range(6) for d in openers(contact, today=TODAY, seed=s))
        assert "since Brightline" in joined or "years at Brightline" in joined, joined
        assert "things at Brightline" not in joined and "busiest at" not in joined


def test_sensitive_notes_never_appear_and_soften_the_questions() -> None:
    contact = Contact(id=1, name="Raj", notes="his wife passed away last year; loves jazz")
    joined = " ".join(d for s in range(8) for d in openers(contact, today=TODAY, seed=s))
    assert "wife" not in joined and "passed" not in joined
    assert "highlight of your year" not in joined
    assert "jazz" in joined  # the rest of the notes still count


def test_a_url_is_never_shown() -> None:
    contact = Contact(id=1, name="Tom", notes="https://linkedin.com/in/tom; sails")
    for seed in range(6):
        assert not any(
            "http" in d or "linkedin" in d for d in openers(contact, today=TODAY, seed=seed)
        )


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


def test_questions_for_prep_are_about_them_then_open() -> None:
    asked = questions(rich(), today=TODAY)
    assert len(asked) == 3 and all(q.endswith("?") and q[0].isupper() for q in asked)
    assert any("new role" in q for q in asked)
    assert len(questions(Contact(id=1, name="Dana"), today=TODAY)) == 3


def test_copy_text_and_mailto() -> None:
    drafts = openers(rich(), today=TODAY)
    assert copy_text(drafts) == "\n\n".join(drafts)
    link = mailto("dana@brightline.com", drafts[0])
    assert link is not None and link.startswith("mailto:dana@brightline.com?subject=")
    assert " " not in link and "%20" in link
    for bad in (None, "", "not an email", "a@b", "x@y.com\nBcc: z@z.com", "<a@b.com>"):
        assert mailto(bad, "hi") is None, bad


def test_talking_points_are_safe_phrases() -> None:
    assert talking_point("sails every summer") == "sailing"
    assert talking_point("just promoted to COO") == "the promotion"
    assert talking_point("his wife passed away; https://x.com") is None
    assert talking_point("") is None


def test_first_interest_skips_sensitive_fragments_and_links() -> None:
    assert first_interest("his wife passed away; https://x.com; loves jazz") == "loves jazz"


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
