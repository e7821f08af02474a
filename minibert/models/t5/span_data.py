"""Chapter 14's T5 pre-training data in miniature: character-level span corruption of the course corpus.

Each example is a window of text; :func:`~minibert.models.family.noise.t5_noise_mask` picks 15% of its characters in
spans of mean length 3 (Raffel et al., 2020, section 3.1.4), each span becomes one sentinel in the input, and the
target lists the spans after their sentinels and ends with the end-of-sequence id. Characters are the tokens so that
a model of a few hundred thousand parameters learns visibly in minutes (spelling and common words); T5 itself
corrupts SentencePiece pieces. The id layout follows T5: 0 is padding (and the decoder's start), 1 ends a target.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch

from minibert.models.family.noise import span_corrupt, t5_noise_mask

__all__ = ["CharSpanCorruption", "PAD", "EOS", "UNK"]

PAD, EOS, UNK = "[PAD]", "[EOS]", "[UNK]"


@dataclass
class CharSpanCorruption:
    """The vocabulary (``symbols``: index = id) and the corruption of text windows into ``(input, target)`` ids."""

    symbols: list[str]
    noise_density: float = 0.15
    mean_span_length: float = 3.0

    @classmethod
    def from_text(cls, text: str, min_count: int = 200, sentinels: int = 8, **settings) -> "CharSpanCorruption":
        """Characters seen at least ``min_count`` times, after the three specials and ``sentinels`` sentinels."""
        counts = Counter(text)
        chars = sorted(c for c, n in counts.items() if n >= min_count)
        return cls([PAD, EOS, UNK] + [f"<X{k}>" for k in range(sentinels)] + chars, **settings)

    @property
    def sentinel_ids(self) -> list[int]:
        return [i for i, s in enumerate(self.symbols) if s.startswith("<X") and len(s) > 1]

    @property
    def first_character_id(self) -> int:
        """Ids from here on are characters (before: padding, end, unknown, the sentinels)."""
        return max(self.sentinel_ids) + 1

    def encode(self, text: str) -> list[int]:
        index = {s: i for i, s in enumerate(self.symbols)}
        return [index.get(c, index[UNK]) for c in text]

    def decode(self, ids) -> str:
        return "".join(self.symbols[i] for i in ids if self.symbols[i] not in (PAD, EOS))

    def corrupt(self, ids: list[int], generator: torch.Generator) -> tuple[list[int], list[int]]:
        """One window of ids -> ``(input ids, target ids + [EOS])``."""
        mask = t5_noise_mask(len(ids), self.noise_density, self.mean_span_length, generator)
        inputs, targets = span_corrupt(ids, mask, self.sentinel_ids)
        return inputs, targets + [self.symbols.index(EOS)]

    def batch(self, windows: torch.Tensor, generator: torch.Generator):
        """``(input_ids, attention_mask, labels)`` for a ``(B, T)`` tensor of windows, padded to the longest row
        (labels padded with -100)."""
        pairs = [self.corrupt(row.tolist(), generator) for row in windows]
        return (*_pad([p[0] for p in pairs], 0), _pad([p[1] for p in pairs], -100)[0])

    def spans(self, target_ids) -> list[str]:
        """The text of each span in a target (or a prediction), in sentinel order; stops at the end id."""
        sentinels, eos = set(self.sentinel_ids), self.symbols.index(EOS)
        spans: list[str] = []
        for i in target_ids:
            i = int(i)
            if i == eos:
                break
            if i in sentinels:
                spans.append("")
            elif spans and i >= 0 and self.symbols[i] != PAD:
                spans[-1] += self.symbols[i]
        return spans


def _pad(rows: list[list[int]], value: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), value, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for k, row in enumerate(rows):
        ids[k, :len(row)] = torch.tensor(row)
        mask[k, :len(row)] = 1
    return ids, mask


def span_scores(predicted: list[list[str]], expected: list[list[str]]) -> dict[str, float]:
    """``exact``: the share of spans written exactly; ``characters``: the share of the spans' characters right at
    their place (a missing or short span counts its characters wrong)."""
    spans = exact = chars = right = 0
    for guess, truth in zip(predicted, expected):
        for k, span in enumerate(truth):
            written = guess[k] if k < len(guess) else ""
            spans, exact = spans + 1, exact + (written == span)
            chars += len(span)
            right += sum(a == b for a, b in zip(written, span))
    return {"exact": exact / max(spans, 1), "characters": right / max(chars, 1)}
