"""Fuzzy matching of a typed name against a user's contacts.

Order of preference: the exact name (ignoring case, accents and spacing); then names containing
the typed words as whole words ("dana"); then names whose words start with them ("d whit"); then close spellings ("Dnaa Whitfeld"). When
several contacts are about equally good, all of them are returned so the user can choose — we
never guess between two people.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.core.text import fold

_FUZZY_CUTOFF = 75.0
_TIE_MARGIN = 8.0


def match(query: str, names: list[tuple[int, str]], *, limit: int = 8) -> list[tuple[int, str]]:
    """Contacts in ``names`` (``(id, name)`` pairs) that ``query`` may mean, best first.

    One element means an unambiguous match; none means no contact looks like ``query``.
    """
    key = fold(query)
    if not key or not names:
        return []
    folded = [(cid, name, fold(name)) for cid, name in names]

    exact = [(cid, name) for cid, name, f in folded if f == key]
    if exact:
        return exact[:limit]

    words = key.split()
    for whole_words in (True, False):  # "dan" means Dan Brooks before Dana Whitfield
        found = [
            (cid, name) for cid, name, f in folded if _words_start(words, f.split(), whole_words)
        ]
        if found:
            return sorted(found, key=lambda pair: fold(pair[1]))[:limit]

    choices = {i: f for i, (_, _, f) in enumerate(folded)}
    scored = process.extract(key, choices, scorer=_score, score_cutoff=_FUZZY_CUTOFF, limit=limit)
    if not scored:
        return []
    best = scored[0][1]
    return [(folded[i][0], folded[i][1]) for _, score, i in scored if best - score <= _TIE_MARGIN]


def _words_start(query: list[str], name: list[str], whole: bool) -> bool:
    """Each query word is (``whole``) or starts a different name word, in order.

    "d whit" starts "dana whitfield"; "dana" is a whole word of "dana scully".
    """
    position = 0
    for word in query:
        while position < len(name) and not (
            name[position] == word if whole else name[position].startswith(word)
        ):
            position += 1
        if position == len(name):
            return False
        position += 1
    return True


def _score(query: str, choice: str, **_: object) -> float:
    """Best of whole-name similarity and similarity to any single word of the name."""
    whole = fuzz.ratio(query, choice)
    if " " in query:
        return max(whole, fuzz.token_sort_ratio(query, choice))
    return max(whole, max((fuzz.ratio(query, word) for word in choice.split()), default=0.0))
