"""Chapter 12: exercises 12.5."""
from __future__ import annotations

from .common import *  # noqa: F401,F403 (imports and helpers)
from .part1 import _ORDER  # noqa: F401 (shared with part1's exercises)


@exercise("12.5", "predict: which predictions does one token reach?", kind="predict",
          hints=("Follow who may see whom in the query stream, layer after layer: a prediction can only be "
                 "influenced by tokens its query stream, or the content states it reads, have seen.",
                 "Order [4, 0, 7, 2, 9, 5, 1, 8, 3, 6] with the last four predicted (1, 8, 3, 6, in this order). "
                 "The token at position 8 (the second target) changes. Answer how many of the four predictions "
                 "change: an integer from 0 to 4."),
          solution="""
          answer = 2
          """,
          wrong=("answer = 3", "answer = 4", "answer = 0", 'answer = "two"'))
@_own_rng
def _(answer):
    from minibert.models.xlnet.model import XLNetConfig, XLNetLMHeadModel
    from minibert.models.xlnet.permutation import permutation_masks, target_mapping, to_perm_mask

    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    said = _integer(answer if not isinstance(answer, np.ndarray) else answer.item(),
                    "the number of predictions that change")
    torch.manual_seed(0)
    model = XLNetLMHeadModel(XLNetConfig(vocab_size=50, d_model=32, n_layer=2, n_head=2, d_inner=64, mem_len=0))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # weights far from their small initial values
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3 + float(name.endswith("norm.weight")))
    model.eval()
    targets = _ORDER[-4:]
    _, query = permutation_masks(_ORDER, num_predict=4)
    ids = torch.randint(0, 50, (1, 10), generator=g)
    changed = ids.clone()
    changed[0, 8] = (ids[0, 8] + 13) % 50
    perm, mapping = to_perm_mask(query)[None], target_mapping(targets, 10)[None]
    with torch.no_grad():
        before = model(ids, perm_mask=perm, target_mapping=mapping).logits[0]
        after = model(changed, perm_mask=perm, target_mapping=mapping).logits[0]
    moved = (after - before).abs().amax(-1).tolist()
    report = ", ".join(f"position {t}: {'moved by ' + format(m, '.2f') if m > 1e-4 else 'unchanged'}"
                       for t, m in zip(targets, moved))
    count = sum(m > 1e-4 for m in moved)
    story = (f"Measured on a tiny random XLNet: {report}. Position 1 comes before 8 in the order, so nothing it reads "
             f"has seen 8; position 8's own query stream never sees its token (that is the point of the query "
             f"stream); positions 3 and 6 come after 8 and see it.")
    if said != count:
        raise AssertionError(f"{count} of the 4 predictions change, not {said}. {story}")
    print(f"Right: {story}")
