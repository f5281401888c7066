"""Addressing people: titles, family-name-first names, nicknames and preferred names."""

import pytest

from bot.core.commands import Add, Log, Opener, Prep, parse
from bot.core.model import Contact
from bot.core.names import address, clean_preferred, default_preferred, split_preferred
from bot.core.reflection import split_learned


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dana Whitfield", "Dana"),
        ("Dr. Amara Okafor", "Dr. Okafor"),
        ("Dr Amara Okafor", "Dr. Okafor"),
        ("Prof. WANG Li", "Prof. Wang"),
        ("Professor Hans Müller", "Prof. Müller"),
        ("Dr. Maria van der Berg", "Dr. van der Berg"),
        ("Dr. María José García-López, PhD", "Dr. García-López"),
        ("Dr. Okafor", "Dr. Okafor"),
        ("Dr.", ""),
        ("WANG Li", "Li"),
        ("NAKAMURA Yui", "Yui"),
        ("Li WANG", "Li"),
        ("DANA WHITFIELD", "Dana"),
        ("李小龍", "李小龍"),
        ("山田 太郎", "山田太郎"),
        ("김민준", "김민준"),
        ('Robert "Bob" Smith', "Bob"),
        ("Robert “Bob” Smith", "Bob"),
        ("Dana Whitfield (Brightline)", "Dana"),
        ("Okafor, Amara", "Amara"),
        ("J. Robert Smith", "Robert"),
        ("Mr. Tom Jones Jr.", "Tom"),
        ("Sir Ian", "Ian"),
        ("Олег Петров", "Олег"),
        ("Zoë 🎉", "Zoë"),
        ("", ""),
        ("🙂", ""),
        ("J.R.", ""),
        ("X" * 60, ""),
    ],
)
def test_address(name: str, expected: str) -> None:
    assert address(name) == expected


def test_a_preferred_name_wins_and_is_tidied() -> None:
    assert address("Dr. Amara Okafor", "Amara") == "Amara"
    assert address("WANG Li", " {Xiao Li} ") == "Xiao Li"
    assert address("Dana Whitfield", "🙂") == "Dana"  # nothing usable: worked out from the name
    assert clean_preferred('  "Dee". ') == "Dee"
    assert clean_preferred("<> {} ...") == ""
    assert default_preferred("Dr. Amara Okafor") == "Dr. Okafor"


def test_first_name_uses_the_address() -> None:
    assert Contact(id=1, name="Dr. Amara Okafor").first_name == "Dr. Okafor"
    assert Contact(id=1, name="WANG Li", preferred_name="Xiao Li").first_name == "Xiao Li"
    assert Contact(id=1, name="🙂 Smile").first_name == "Smile"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("Dana Whitfield called Dee", ("Dana Whitfield", "Dee")),
        ("Robert Smith aka Bob", ("Robert Smith", "Bob")),
        ("Robert Smith a.k.a. Bob", ("Robert Smith", "Bob")),
        ("Yui Nakamura goes by Yui", ("Yui Nakamura", "Yui")),
        ("Dana Whitfield", ("Dana Whitfield", "")),
        ("Osaka Tanaka", ("Osaka Tanaka", "")),
    ],
)
def test_split_preferred(head: str, expected: tuple[str, str]) -> None:
    assert split_preferred(head) == expected


def test_the_grammar() -> None:
    assert parse("add Dr. Amara Okafor called Amara every 2 months -- jazz") == Add(
        name="Dr. Amara Okafor", cadence=parse("add x every 2 months").cadence, notes="jazz",
        preferred="Amara",
    )  # fmt: skip
    assert parse("log Dana -- coffee; learned: daughter at Yale") == Log(
        name="Dana", note="coffee", learned="daughter at Yale"
    )
    assert parse("log Dana -- Learnt: new boat") == Log(name="Dana", note="", learned="new boat")
    assert parse("log Dana -- we learned a lot") == Log(name="Dana", note="we learned a lot")
    assert parse("opener dana") == Opener("dana")
    assert parse("openers dana") == Opener("dana")
    assert parse("prepare Dana W") == Prep("Dana W")
    assert parse("prep @dana") == Prep("dana")


def test_split_learned() -> None:
    assert split_learned("coffee, learned: kids at Yale") == ("coffee", "kids at Yale")
    assert split_learned("I learned: kids") == ("", "kids")
    assert split_learned("nothing learned today") == ("nothing learned today", "")


# Names typed as people type them: the plain shape the fast path takes, and every shape it must
# leave to the full reading (titles, initials, capitals, suffixes, odd spacing, scripts, marks).
_SHAPES = [
    "Dana Whitfield", "Jean-Luc Picard", "Zoë Müller", "Олег Петров", "María José García-López",
    "Maria van der Berg", "Ana de la Cruz", "Amélie Poulain Dupont", "Ab Cd", "Li Wang",
    "Dr Amara Okafor", "Prof Hans Müller", "Mr Tom Jones", "Sir Ian McKellen", "Sr Juan Pérez",
    "Tom Jones Jr", "Ma Ba", "Jr Smith", "Dana Phd", "J Robert Smith", "JR Smith",
    "DANA WHITFIELD", "WANG Li", "Li WANG", "Dana  Whitfield", " Dana Whitfield",
    "Dana Whitfield ", "Dana\tWhitfield", "Dana-", "-Dana Smith", "Dana -Smith", "D-J Smith",
    "O'Brien Sean", "Sean O'Brien", "Dana Whitfield (Brightline)", "Okafor, Amara",
    "Zoe\u0308 Müller", "Dana\u200bWhitfield", "Dana\u00adWhitfield", "山田 太郎", "김 민준",
    "Dana Whitfield Smith Jones Extra", "Dana", "X" * 40 + " Smith", "ǅana Smith", "ΣΟΦΙΑ Παππά",
    "Ａｎａ Ｓｍｉｔｈ", "Ana Smith\u3164", "Ana\u115f Smith", "Dana 🎉", "Dana Whitfield-",
]  # fmt: skip


@pytest.mark.parametrize("name", _SHAPES)
def test_plain_names_take_a_shortcut_to_the_same_address(name: str) -> None:
    from bot.core.names import _plain_given, _read_name

    plain = _plain_given(name)
    assert plain == "" or plain == _read_name(name)


def test_the_shortcut_is_taken_for_plain_names() -> None:
    from bot.core.names import _plain_given

    taken = [n for n in _SHAPES if _plain_given(n)]
    assert "Dana Whitfield" in taken and "Jean-Luc Picard" in taken and "Олег Петров" in taken
    assert "Dr Amara Okafor" not in taken and "Ma Ba" not in taken and "WANG Li" not in taken
