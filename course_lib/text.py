"""Characters <-> integer ids, for the character-level lessons (sequence-to-sequence, text generation).

A :class:`CharVocabulary` is an ordered list of tokens: first the *reserved* tokens (multi-character
names such as ``"<pad>"`` or ``"<eos>"``, which never occur in raw text), then the single characters.
``encode`` turns a string into an int32 array of ids, ``decode`` turns ids back into a string.

>>> v = CharVocabulary("0123456789+", reserved=("<pad>", "<eos>"))
>>> v.encode("12+3").tolist()
[4, 5, 2, 6]
>>> v.decode([4, 5, 2, 6, 1])
'12+3<eos>'
>>> v.id("<pad>"), len(v)
(0, 13)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


class CharVocabulary:
    """A fixed mapping between tokens and ids ``0 .. len(self) - 1``.

    Parameters
    ----------
    chars:
        The characters of the vocabulary (any iterable of one-character strings, e.g. a string).
        Duplicates are removed; order is sorted so that the same set of characters always gives
        the same ids.
    reserved:
        Special tokens placed first, in the order given (``reserved[0]`` gets id 0, so put the
        padding token there when ``mask_zero=True`` is used). Each must be longer than one
        character so it can never be confused with a character of the text.
    """

    def __init__(self, chars: Iterable[str], reserved: Sequence[str] = ()) -> None:
        chars = sorted(set(chars))
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"chars must be single characters; got {bad[:5]!r}. "
                             "Pass a string (e.g. '0123456789+') or a list of one-character strings.")
        reserved = list(reserved)
        short = [r for r in reserved if not isinstance(r, str) or len(r) < 2]
        if short:
            raise ValueError(f"reserved tokens must be strings of two or more characters (e.g. '<eos>'); "
                             f"got {short!r}, which could be confused with a character of the text")
        if len(set(reserved)) != len(reserved):
            raise ValueError(f"reserved tokens must be distinct; got {reserved!r}")
        self.reserved: tuple[str, ...] = tuple(reserved)
        self.chars: tuple[str, ...] = tuple(chars)
        self.tokens: tuple[str, ...] = self.reserved + self.chars
        self._index: dict[str, int] = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def from_text(cls, text: str, reserved: Sequence[str] = ()) -> CharVocabulary:
        """The vocabulary of every distinct character in ``text`` (plus the ``reserved`` tokens)."""
        if not text:
            raise ValueError("cannot build a vocabulary from an empty text")
        return cls(text, reserved=reserved)

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"CharVocabulary({len(self.chars)} chars, reserved={list(self.reserved)})"

    def id(self, token: str) -> int:
        """The id of one token (a character or a reserved token such as ``"<eos>"``)."""
        try:
            return self._index[token]
        except KeyError:
            raise KeyError(f"{token!r} is not in the vocabulary; known reserved tokens: "
                           f"{list(self.reserved)}, characters: {''.join(self.chars)!r}") from None

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of ``text``, an int32 array of shape ``(len(text),)``.

        Reserved tokens are not parsed out of ``text``: append their ids with :meth:`id`.
        A character outside the vocabulary raises ``ValueError`` naming it and its position.
        """
        if not isinstance(text, str):
            raise TypeError(f"encode expects a str; got {type(text).__name__}. Decode ids with decode().")
        try:
            return np.fromiter((self._index[c] for c in text), dtype=np.int32, count=len(text))
        except KeyError:
            pos = next(i for i, c in enumerate(text) if c not in self._index)
            raise ValueError(
                f"character {text[pos]!r} at position {pos} is not in the vocabulary "
                f"({len(self.chars)} characters: {''.join(self.chars)[:80]!r}). Build the vocabulary "
                "from text that contains it, or remove it from the input."
            ) from None

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """The string of the tokens with ids ``ids`` (a 1-D sequence of ints; reserved tokens by name)."""
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"decode expects a 1-D sequence of ids; got shape {ids.shape}. "
                             "Decode a batch row by row: [v.decode(row) for row in batch].")
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids must be integers; got dtype {ids.dtype}. Take argmax of probabilities first.")
        out = []
        for i in ids.tolist():
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"id {i} is outside the vocabulary (valid ids: 0 .. {len(self.tokens) - 1})")
            out.append(self.tokens[i])
        return "".join(out)
