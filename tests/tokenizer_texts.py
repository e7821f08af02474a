"""Deterministic mixed text for the tokenizer parity tests: English (the course corpus), Russian, Chinese, accents
and combining marks, emoji (with skin tones and ZWJ sequences), control and format characters, exotic spaces, very
long words around the 100-character limit, punctuation runs, special tokens written in the text, numbers, and
characters whose Unicode data changed across versions."""
import random

from minibert.corpus import load_text

ENGLISH = load_text().split()
RUSSIAN = ("мама мыла раму маму мыла рама Привет мир Москва съешь же ещё этих мягких французских булок да выпей "
           "чаю Ёлка ЁЖИК подъезд объявление Текст на русском языке проверяет кириллицу").split()
CHINESE = "我们在学习自然语言处理中文一般是字词语的可能性太多了西瓜跑步北京大学你好世界模型训练數據處理繁體字"
ACCENTED = "café naïve résumé Ångström Zürich İstanbul ŞIŞLI Ελληνικά ΣΟΦΟΣ façade coöperate Dvořák ﬁne Æsir Øre"
COMBINING = ["e\u0301", "a\u0308\u0301", "n\u0303", "o\u0328\u0304", "\u0301x", "i\u0307"]
EMOJI = ["🙂", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "🥹", "🫠", "✨", "🧑🏿‍🚀", "☕"]
CONTROL = ["\x00", "\x01", "\x07", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\u200b", "\u200d", "\ufeff",
           "\ufffd", "\u202e", "\ue000", "\U000f0000"]
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u2009", "\u1680"]
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»„“”—–…·¿¡、。，！？《》【】"
SPECIAL = ["[MASK]", "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[mask]", "[MASK", "x[MASK]y"]
RARE = [chr(c) for c in (0x07FD, 0x166D, 0x2E4F, 0x1C89, 0x11938, 0xA7CB, 0x0378, 0x2FFFF, 0xE0100, 0x10D50)]


def mixed_line(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(3, 40)):
        kind = rng.random()
        if kind < 0.45:
            parts.append(rng.choice(ENGLISH))
        elif kind < 0.55:
            parts.append(rng.choice(RUSSIAN))
        elif kind < 0.62:
            parts.append("".join(rng.choice(CHINESE) for _ in range(rng.randint(1, 8))))
        elif kind < 0.68:
            parts.append(rng.choice(ACCENTED.split()) + rng.choice(COMBINING + [""]))
        elif kind < 0.72:
            parts.append("".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 3))))
        elif kind < 0.76:
            parts.append(rng.choice(ENGLISH) + rng.choice(CONTROL) + rng.choice(ENGLISH))
        elif kind < 0.80:  # very long words, around the 100-character limit
            parts.append("".join(rng.choice("abcdefghij") for _ in range(rng.choice([99, 100, 101, 150, 300]))))
        elif kind < 0.85:
            parts.append("".join(rng.choice(PUNCTUATION) for _ in range(rng.randint(2, 12))))
        elif kind < 0.88:
            parts.append(rng.choice(SPECIAL))
        elif kind < 0.90:
            parts.append(rng.choice(RARE) + rng.choice(ENGLISH))
        elif kind < 0.95:
            parts.append(str(rng.randint(0, 10**rng.randint(1, 12))))
        else:
            parts.append(rng.choice(ENGLISH).upper())
        parts.append(rng.choice(SPACES) if rng.random() < 0.3 else " ")
    return "".join(parts)




def mixed_lines(seed: int = 2026, size: int = 1_050_000) -> list[str]:
    """Lines of mixed text totalling ``size`` UTF-8 bytes or a little more."""
    rng = random.Random(seed)
    lines, total = [], 0
    while total < size:
        lines.append(mixed_line(rng))
        total += len(lines[-1].encode("utf-8"))
    return lines
