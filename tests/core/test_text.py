"""Text cleaning and folding."""

from bot.core.text import _fold_unicode, clean, fold, one_line, shorten, visible


def test_clean_keeps_newlines_and_collapses_spaces() -> None:
    assert clean("  a\t b \r\n\n c\u200b ") == "a b\n\nc"


def test_one_line() -> None:
    assert one_line("Dana\nWhitfield") == "Dana Whitfield"


def test_fold_ignores_case_accents_and_width() -> None:
    assert fold("Zoë  Ó BRIAIN") == fold("zoe o briain")
    assert fold("ＤＡＮＡ") == "dana"
    assert fold("李小龍") == "李小龍"


def test_fold_of_ascii_is_what_the_unicode_fold_makes_of_it() -> None:
    """ASCII text skips NFKD and NFKC (they leave it as it is): every ASCII character, alone,
    in a name and doubled, folds as the full Unicode path folds it."""
    samples = [chr(i) for i in range(128)]
    samples += [f" Dana{ch}O'Brien-Smith {ch}" for ch in samples] + [ch * 2 for ch in samples]
    samples += ["  Dana \t WHITFIELD\r\n", "ALLCAPS 123 !?", "", "   "]
    for text in samples:
        assert fold(text) == _fold_unicode(one_line(text)), repr(text)


def test_shorten() -> None:
    assert shorten("abcdef", 4) == "abc…"
    assert shorten("abc", 4) == "abc"


def test_clean_removes_what_storage_refuses() -> None:
    assert clean("Da\x00na") == "Dana"
    assert clean("a\ud800b\udfffc") == "abc"  # lone surrogates cannot be encoded
    assert one_line("Dana\x00\nWhitfield") == "Dana Whitfield"


def test_clean_removes_bidi_controls_and_hangul_fillers() -> None:
    for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u3164\u115f\u1160\uffa0":
        assert one_line(f"{ch}Dana{ch} Whitfield") == "Dana Whitfield", hex(ord(ch))


def test_clean_result_is_in_nfc_even_when_a_removed_character_split_it() -> None:
    assert clean("e\u200b\u0301") == "\u00e9"


def test_visible() -> None:
    assert visible("Dana") and visible("李") and visible("🙂") and visible("Zoë")
    assert not visible("\u0301\u0301") and not visible("\u200d") and not visible("\u034f")
