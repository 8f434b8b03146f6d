"""course_lib.text: the character vocabulary shared by lessons 11 and 12."""


import numpy as np
import pytest

from course_lib.text import CharVocabulary


def test_round_trip_and_ids():
    text = "To be, or not to be: that is the question.\n"
    v = CharVocabulary.from_text(text)
    ids = v.encode(text)
    assert ids.dtype == np.int32 and ids.shape == (len(text),)
    assert v.decode(ids) == text
    assert len(v) == len(set(text))
    # sorted characters: ids follow the sort order, independent of the order of appearance
    assert v.chars == tuple(sorted(set(text)))
    assert CharVocabulary(text[::-1]).tokens == v.tokens
    assert v.id("a") == sorted(set(text)).index("a")


def test_reserved_tokens_come_first():
    v = CharVocabulary("0123456789+", reserved=("<pad>", "<go>", "<eos>"))
    assert (v.id("<pad>"), v.id("<go>"), v.id("<eos>")) == (0, 1, 2)
    assert len(v) == 14
    assert v.encode("10+9").tolist() == [5, 4, 3, 13]  # sorted: "+" < "0" < ... < "9"
    ids = np.r_[v.encode("19"), v.id("<eos>"), v.id("<pad>")]
    assert v.decode(ids) == "19<eos><pad>"
    # a reserved token's name is not parsed from text: its characters are unknown here
    with pytest.raises(ValueError, match="'<'"):
        v.encode("1<eos>")


def test_unknown_character_is_a_clear_error():
    v = CharVocabulary("abc")
    with pytest.raises(ValueError, match=r"character 'z' at position 2 is not in the vocabulary"):
        v.encode("abz")
    with pytest.raises(KeyError, match="not in the vocabulary"):
        v.id("<eos>")


def test_bad_arguments():
    with pytest.raises(ValueError, match="single characters"):
        CharVocabulary(["ab", "c"])
    with pytest.raises(ValueError, match="two or more characters"):
        CharVocabulary("abc", reserved=("#",))
    with pytest.raises(ValueError, match="distinct"):
        CharVocabulary("abc", reserved=("<pad>", "<pad>"))
    with pytest.raises(ValueError, match="empty text"):
        CharVocabulary.from_text("")
    v = CharVocabulary("abc")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        v.decode([0, 3])
    with pytest.raises(ValueError, match="1-D"):
        v.decode(np.zeros((2, 2), dtype=int))
    with pytest.raises(TypeError, match="integers"):
        v.decode(np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="expects a str"):
        v.encode([0, 1])


def test_empty_string():
    v = CharVocabulary("abc")
    assert v.encode("").shape == (0,)
    assert v.decode([]) == ""
