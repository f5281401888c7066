"""Ids written out once for all the statements of a compose read (storage.ids)."""

from __future__ import annotations

import pytest

from storage.ids import Ids, ids_text
from storage.pg_arrays import bigint_literal


def test_ids_are_written_once_and_as_a_plain_list_would_be() -> None:
    ids = Ids([3, 1, 2])
    assert ids == [3, 1, 2] and ids_text(ids) == ids_text([3, 1, 2]) == "3,1,2"
    assert ids.text() is ids.text()  # the same string, not written again
    assert bigint_literal(ids) == bigint_literal([3, 1, 2]) == "{3,1,2}"
    assert ids_text(Ids()) == ""


@pytest.mark.parametrize("bad", [["1) OR (1=1"], [None], [1.5j]])
def test_only_integers_are_written(bad: list[object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        Ids(bad).text()  # type: ignore[arg-type]
