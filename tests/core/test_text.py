"""Text cleaning and folding."""

from bot.core.text import clean, fold, one_line, shorten


def test_clean_keeps_newlines_and_collapses_spaces() -> None:
    assert clean("  a\t b \r\n\n c\u200b ") == "a b\n\nc"


def test_one_line() -> None:
    assert one_line("Dana\nWhitfield") == "Dana Whitfield"


def test_fold_ignores_case_accents_and_width() -> None:
    assert fold("Zoë  Ó BRIAIN") == fold("zoe o briain")
    assert fold("ＤＡＮＡ") == "dana"
    assert fold("李小龍") == "李小龍"


def test_shorten() -> None:
    assert shorten("abcdef", 4) == "abc…"
    assert shorten("abc", 4) == "abc"
