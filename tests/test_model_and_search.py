"""The encode / decode_step interface agrees with teacher forcing, and greedy search is batch-independent."""

import pytest
import torch

from honyaku.config import DecodingConfig, ModelConfig
from honyaku.data import pad
from honyaku.model import build_model, reverse_padded
from honyaku.search import greedy_search, translate_ids

BOS, EOS, PAD = 2, 3, 0


@pytest.fixture(params=[False, True], ids=["forward-source", "reversed-source"])
def model(request):
    torch.manual_seed(0)
    cfg = ModelConfig(embed_dim=16, hidden_size=24, num_layers=2, reverse_source=request.param)
    return build_model(cfg, src_vocab_size=30, tgt_vocab_size=20, pad_id=PAD).eval()


def test_reverse_padded_keeps_padding_in_place():
    tokens = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])
    assert reverse_padded(tokens, torch.tensor([3, 2])).tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]


def test_decode_step_matches_teacher_forcing_and_ignores_padding(model):
    src = torch.tensor([[5, 6, 7, 3], [8, 9, 3, PAD]])
    lengths = torch.tensor([4, 3])
    tgt_in = torch.tensor([[BOS, 4, 5, 6], [BOS, 7, 8, 9]])
    full = model(src, lengths, tgt_in)  # (B, T, V)
    state = model.encode(src, lengths)
    for t in range(tgt_in.size(1)):
        logits, state = model.decode_step(state, tgt_in[:, t])
        torch.testing.assert_close(logits, full[:, t])
    alone = model(src[1:, :3], lengths[1:], tgt_in[1:])  # the same sentence without padding
    torch.testing.assert_close(alone, full[1:])


def test_greedy_search_is_argmax_decoding_and_batch_independent(model):
    torch.manual_seed(1)
    sources = [torch.randint(4, 30, (n,)).tolist() + [EOS] for n in (3, 7, 5, 9, 2)]
    batched = translate_ids(
        model, sources, DecodingConfig(max_length_ratio=1.0, max_length_offset=4), PAD, BOS, EOS, torch.device("cpu")
    )
    for source, output in zip(sources, batched):
        # one sentence at a time, by hand
        state = model.encode(torch.tensor([source]), torch.tensor([len(source)]))
        prev, expected = torch.tensor([BOS]), []
        while len(expected) < len(source) + 4:
            logits, state = model.decode_step(state, prev)
            prev = logits.argmax(-1)
            expected.append(prev.item())
            if expected[-1] == EOS:
                break
        assert output[: len(expected)] == expected
        assert all(token == EOS for token in output[len(expected) :])


def test_greedy_search_respects_each_length_cap(model):
    src = pad([[5, 6, 3], [7, 3]], PAD)
    output = greedy_search(model, src, torch.tensor([3, 2]), BOS, EOS, max_lengths=torch.tensor([1, 4]))
    assert output.shape == (2, 5)
    assert output[0, 1:].eq(EOS).all()  # nothing written past the first sentence's cap
