"""The merge-stepper widget draws what trace_merges computes: the followed words in their current pieces (the
newest token outlined in red), the score or frequency of each merge, the vocabulary size and pieces per word."""
import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from minibert.tokenizers import ByteLevelBPETokenizer, train_bpe, train_wordpiece  # noqa: E402
from minibert.tokenizers.trace import trace_merges  # noqa: E402
from minibert.widgets import draw_merge_step, merge_stepper  # noqa: E402

SEED_CORPUS = ["мама мыла раму, маму мыла рама"]


def texts_of(ax):
    return [t.get_text() for t in ax.texts]


def red_boxes(ax):
    return [p for p in ax.patches if p.get_edgecolor()[:3] == matplotlib.colors.to_rgb("red")]


def test_wordpiece_steps_show_pieces_score_and_growth():
    tok = train_wordpiece(SEED_CORPUS, 40, min_frequency=1)
    trace = trace_merges(tok, SEED_CORPUS)
    assert trace.words == ["мыла", "мама", "маму", "рама", "раму"] and trace.score_name == "score"
    fig = draw_merge_step(trace, 0)
    words_ax = fig.axes[0]
    assert words_ax.get_title() == "before any merge" and not red_boxes(words_ax)
    assert "4 pieces  (x2)" in texts_of(words_ax)
    fig = draw_merge_step(trace, 3, fig)
    words_ax, score_ax, vocab_ax = fig.axes[:3]
    assert words_ax.get_title() == "merge 3: '##м' + '##у' -> '##му'  (score 0.25, pair seen 2x)"
    assert len(red_boxes(words_ax)) == 2  # маму and раму now end in ##му
    assert "##му" in texts_of(words_ax)
    x, y = score_ax.lines[1].get_data()
    assert list(x) == [3] and list(y) == [0.25]
    assert vocab_ax.get_title() == f"vocabulary {trace.vocab_sizes[3]}, {trace.pieces_per_word[3]:.2f} pieces per word"
    fig = draw_merge_step(trace, trace.steps, fig)
    assert "1 piece  (x2)" in texts_of(fig.axes[0])
    with pytest.raises(ValueError, match="step must be in"):
        draw_merge_step(trace, trace.steps + 1)


def test_bpe_and_byte_level_runs_show_frequencies():
    bpe = train_bpe({"low": 5, "lower": 2, "newest": 6, "widest": 3}, 30, min_frequency=1)
    fig = draw_merge_step(trace_merges(bpe, {"low": 5, "lower": 2, "newest": 6, "widest": 3}), 1)
    assert fig.axes[0].get_title() == "merge 1: 'e' + 's' -> 'es'  (frequency 9)"
    corpus = ["the cat sat on the mat", "the cat ate the rat"]
    byte_level = ByteLevelBPETokenizer.train(corpus, 265, min_frequency=1)
    trace = trace_merges(byte_level, corpus, words=["Ġcat", "the"])
    assert trace.splits[0][0] == ("Ġ", "c", "a", "t") and trace.splits[-1][0] == ("Ġcat",)


def test_panel_update_redraws_and_loaded_tokenizers_are_refused(tmp_path):
    tok = train_wordpiece(SEED_CORPUS, 40, min_frequency=1)
    panel = merge_stepper(tok, SEED_CORPUS, step=0)
    fig = panel.update(5)
    assert fig is panel.figure and fig.axes[0].get_title().startswith("merge 5:")
    assert panel.trace.steps == len(tok.history)
    tok.save_pretrained(tmp_path)
    from minibert.tokenizers import WordPieceTokenizer

    with pytest.raises(ValueError, match="no training history"):
        merge_stepper(WordPieceTokenizer.from_pretrained(tmp_path), SEED_CORPUS)
