"""augment.LazyPattern: a regular expression compiled on first use."""

import pickle
import re

from augment import LazyPattern


def test_a_lazy_pattern_compiles_on_first_use_and_pickles():
    p = LazyPattern(r"(?P<w>\w+)", re.I)
    assert "_compiled" not in vars(p) and p.pattern == r"(?P<w>\w+)"
    assert p.sub("x", "ab cd") == "x x" and p.groupindex == {"w": 1} and p.flags & re.I
    assert pickle.loads(pickle.dumps(p)).findall("ab cd") == ["ab", "cd"]


def test_a_lazy_pattern_answers_as_the_compiled_one_and_keeps_its_methods():
    p = LazyPattern(r"\bcat\b")
    assert p.search("a cat sat").span() == re.search(r"\bcat\b", "a cat sat").span()
    assert "search" in vars(p)  # the bound method is kept: the next call is a plain attribute lookup
    assert repr(p) == "LazyPattern('\\\\bcat\\\\b', 0)"
