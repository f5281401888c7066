"""The one-line log grammar, ``reached`` and ``evidence`` (alias ``stats``)."""

import pytest

from bot.core import commands as c
from bot.core.evidence import Expectation, OutcomeTag
from bot.core.log_grammar import outcomes_in, split_next_step, split_response

E, T = Expectation, OutcomeTag


@pytest.mark.parametrize(
    "text, expected",
    [
        ("log Dana went well -- referral to Acme",
         c.Log("Dana", "referral to Acme", E.GLAD, frozenset({T.REFERRAL}), typed_name="Dana went well")),
        ("log Dana Whitfield went out of their way — intro to the CFO and some tips",
         c.Log("Dana Whitfield", "intro to the CFO and some tips", E.GO_OUT_OF_WAY,
               frozenset({T.INTRODUCTION, T.ADVICE}),
               typed_name="Dana Whitfield went out of their way")),
        ("log Bo brushed me off", c.Log("Bo", "", E.BRUSH_OFF, typed_name="Bo brushed me off")),
        ("log Dana -- she's hiring in Q3", c.Log("Dana", "she's hiring in Q3")),
        ("log Dana -- coffee; next: send my CV by friday",
         c.Log("Dana", "coffee", step="send my CV", step_when="friday")),
        ("log Dana -- got the offer! caught up on the kids",
         c.Log("Dana", "got the offer! caught up on the kids", outcomes=frozenset({T.OFFER, T.CAUGHT_UP}))),
        ("reached Dana", c.Reached("Dana")),
        ("reachedout @Dana", c.Reached("Dana")),
        ("evidence", c.ShowEvidence()),
        ("stats", c.ShowEvidence()),
    ],
)  # fmt: skip
def test_parses(text: str, expected: c.Command) -> None:
    assert c.parse(text) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("reached", "Whom do you mean? Try `reached Dana`."),
        ("log went well -- x", "Whom did you talk to?"),
        ("log Dana -- x next: call her", "When should I remind you"),
    ],
)
def test_refuses(text: str, problem: str) -> None:
    with pytest.raises(c.CommandError) as raised:
        c.parse(text)
    assert problem in raised.value.message


def test_pieces() -> None:
    assert split_response("Dana WENT WELL") == ("Dana", E.GLAD)
    assert split_response("Dana Wellington") == ("Dana Wellington", None)
    assert split_next_step("x") == ("x", "", "")
    assert split_next_step("a, next: b by in 3 days") == ("a", "b", "in 3 days")
    assert outcomes_in("she offered to help; an offer letter came") == {T.OFFER}
    assert outcomes_in("she offered to help") == frozenset()  # a verb is not an offer
    assert outcomes_in("Référée par Zoë: referred me") == {T.REFERRAL}
    assert c.suggest("evidense") == "evidence" and c.suggest("reachd") == "reached"
