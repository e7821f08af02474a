"""Build the course's offline English corpus from the prose of CPython's own documentation and docstrings.

    python scripts/make_corpus.py          # writes minibert/data/python_docs.txt

Sources, both shipped with every CPython (Python Software Foundation License): ``pydoc_data.topics`` (the
reference-manual topics ``help()`` shows) and the docstrings of the pure-Python standard library modules, their
classes and functions. We keep prose paragraphs only (no grammar productions, code samples or tables), join
wrapped lines, split into sentences, and write one document per topic: a ``# topic`` line, then one sentence per
line, documents separated by a blank line. The file is committed (inside the package, so Colab installs get it too):
numbers printed by the notebooks must not depend on which Python version is running them.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "minibert" / "data" / "python_docs.txt"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(])")


def prose_paragraphs(text: str):
    paragraph: list[str] = []
    for line in text.splitlines() + [""]:
        if not line.strip() or line.startswith((" ", "\t")) or set(line.strip()) <= set("*=-+|"):
            if paragraph:
                yield " ".join(paragraph)
            paragraph = []
            continue
        paragraph.append(line.strip())


def sentences(paragraph: str):
    for sentence in SENTENCE_END.split(paragraph):
        sentence = re.sub(r"\s+", " ", sentence).strip()
        words = sentence.split()
        # drop headings, captions and fragments: a sentence has a few words and ends like one
        if len(words) >= 4 and sentence[-1] in ".!?:" and not sentence.startswith(("Note:", "See also")):
            yield sentence


# Modules that open windows, print on import, or are internal; the rest of the pure-Python stdlib is used.
SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "pydoc_data", "lib2to3", "test",
        "__phello__", "__hello__", "ensurepip", "venv", "sre_compile", "sre_parse", "sre_constants"}


def docstrings(module_name: str):
    import importlib
    import inspect
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = importlib.import_module(module_name)
        except BaseException:
            return
    if not getattr(module, "__file__", "") or not module.__file__.endswith(".py"):
        return  # compiled modules have generated or absent docstrings
    yield inspect.getdoc(module) or ""
    for name, value in sorted(vars(module).items()):
        if name.startswith("_") or getattr(value, "__module__", None) != module_name:
            continue
        if inspect.isclass(value) or inspect.isfunction(value):
            yield inspect.getdoc(value) or ""
            if inspect.isclass(value):
                for attr, member in sorted(vars(value).items()):
                    if not attr.startswith("_") and inspect.isfunction(member):
                        yield inspect.getdoc(member) or ""


def main() -> int:
    import pydoc_data.topics

    documents = []
    sources = [(f"topic {t}", [pydoc_data.topics.topics[t]]) for t in sorted(pydoc_data.topics.topics)]
    sources += [(f"module {m}", docstrings(m)) for m in sorted(sys.stdlib_module_names - SKIP)]
    seen = set()
    for name, texts in sources:
        lines = []
        for text in texts:
            for paragraph in prose_paragraphs(text):
                for sentence in sentences(paragraph):
                    if sentence not in seen:  # docstrings repeat (inherited methods, aliases)
                        seen.add(sentence)
                        lines.append(sentence)
        if len(lines) >= 3:
            documents.append(f"# {name}\n" + "\n".join(lines))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n\n".join(documents) + "\n", encoding="utf-8")
    words = sum(len(d.split()) for d in documents)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(documents)} documents, {words:,} words) "
          f"from Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
