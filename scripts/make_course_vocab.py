"""Train the course tokenizer and write its vocabulary into the package.

    python scripts/make_course_vocab.py          # writes minibert/data/course_vocab.txt

WordPiece by likelihood score (minibert.tokenizers.train_wordpiece) on the offline corpus minibert/data/python_docs.txt,
uncased, COURSE_VOCAB_SIZE tokens, pairs seen at least COURSE_MIN_FREQUENCY times (minibert/tokenizers/course.py).
Training is deterministic; tests/test_tokenizers_training.py checks that this script's output equals the shipped file.
"""
from __future__ import annotations

import sys
import time


from minibert.tokenizers.course import COURSE_VOCAB_PATH, train_course_vocab
from minibert.tokenizers.files import write_vocab_txt


def main() -> int:
    start = time.perf_counter()
    tokenizer = train_course_vocab()
    write_vocab_txt(COURSE_VOCAB_PATH, tokenizer.ids_to_tokens)
    print(f"wrote {COURSE_VOCAB_PATH} ({len(tokenizer)} tokens, {len(tokenizer.history)} merges) "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
