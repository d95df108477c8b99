"""The encode / decode_step interface agrees with teacher forcing, and greedy search is batch-independent."""

import pytest
import torch

from honyaku.core.config import DecodingConfig, ModelConfig
from honyaku.core.errors import HonyakuError
from honyaku.data.batching import pad
from honyaku.inference.search import beam_search, greedy_search, translate_ids
from honyaku.models.ensemble import Ensemble
from honyaku.models.factory import AttentionModel, build_model
from honyaku.models.layers import Dropout
from honyaku.models.rnn import reverse_padded

BOS, EOS, PAD = 2, 3, 0


VARIANTS = {
    "seq2seq": {"arch": "seq2seq"},
    "seq2seq-reversed": {"arch": "seq2seq", "reverse_source": True},
    "attention-dot": {"arch": "attention", "attention": "dot"},
    "attention-general": {"arch": "attention", "attention": "general"},
    "attention-bahdanau-feeding": {"arch": "attention", "attention": "bahdanau", "input_feeding": True},
    "transformer": {"arch": "transformer", "num_heads": 2, "ffn_size": 32},
    "transformer-tied-shared": {
        "arch": "transformer",
        "num_heads": 4,
        "ffn_size": 32,
        "tie_embeddings": True,
        "share_vocab": True,
    },
    "ensemble-attention-transformer": [{"arch": "attention"}, {"arch": "transformer", "num_heads": 2, "ffn_size": 32}],
}


def small_model(variant: dict):
    cfg = ModelConfig(embed_dim=16, hidden_size=24, num_layers=2, **variant)
    tgt_vocab_size = 30 if cfg.share_vocab else 20
    return build_model(cfg, src_vocab_size=30, tgt_vocab_size=tgt_vocab_size, pad_id=PAD).eval()


@pytest.fixture(params=list(VARIANTS.values()), ids=list(VARIANTS))
def model(request):
    torch.manual_seed(0)
    if isinstance(request.param, list):
        return Ensemble([small_model(variant) for variant in request.param]).eval()
    return small_model(request.param)


def test_an_ensemble_scores_with_the_mean_of_its_members_probabilities():
    torch.manual_seed(0)
    members = [small_model(variant) for variant in VARIANTS["ensemble-attention-transformer"]]
    src, lengths = torch.tensor([[5, 6, 7, 3], [8, 9, 3, PAD]]), torch.tensor([4, 3])
    tgt_in = torch.tensor([[BOS, 4, 5], [BOS, 7, 8]])
    expected = torch.stack([member(src, lengths, tgt_in).softmax(-1) for member in members]).mean(0).log()
    torch.testing.assert_close(Ensemble(members)(src, lengths, tgt_in), expected)


def test_reverse_padded_keeps_padding_in_place():
    tokens = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])
    assert reverse_padded(tokens, torch.tensor([3, 2])).tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]


def test_decode_step_matches_teacher_forcing_and_ignores_padding(model):
    """Stepwise decoding with cached state (LSTM states, Transformer keys/values) = full recomputation."""
    src = torch.tensor([[5, 6, 7, 3], [8, 9, 3, PAD]])
    lengths = torch.tensor([4, 3])
    tgt_in = torch.tensor([[BOS, 4, 5, 6], [BOS, 7, 8, 9]])
    full = model(src, lengths, tgt_in)  # (B, T, V)
    state = model.encode(src, lengths)
    for t in range(tgt_in.size(1)):
        logits, state = model.decode_step(state, tgt_in[:, t])
        torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=0)
    alone = model(src[1:, :3], lengths[1:], tgt_in[1:])  # the same sentence without padding
    torch.testing.assert_close(alone, full[1:])


def test_selecting_rows_in_groups_of_a_sentence_equals_selecting_them_one_by_one(model):
    src = torch.tensor([[5, 6, 7, 3], [8, 9, 3, PAD]])
    state = model.encode(src, torch.tensor([4, 3]))
    _, state = model.decode_step(state, torch.tensor([BOS, BOS]))
    expand = torch.tensor([[1, 1, 1], [0, 0, 0]])  # three rows per sentence, the second sentence first
    reorder = torch.tensor([[2, 0, 1], [5, 5, 3]])  # beams of the same sentence, as beam search picks them
    grouped = model.select_state(model.select_state(state, expand), reorder)
    flat = model.select_state(model.select_state(state, expand.flatten()), reorder.flatten())
    for prev in (torch.tensor([4, 5, 6, 7, 8, 9]), torch.tensor([9, 8, 7, 6, 5, 4])):
        (grouped_logits, grouped), (flat_logits, flat) = model.decode_step(grouped, prev), model.decode_step(flat, prev)
        torch.testing.assert_close(grouped_logits, flat_logits, atol=1e-5, rtol=0)


def test_greedy_search_is_argmax_decoding_and_batch_independent(model):
    torch.manual_seed(1)
    sources = [torch.randint(4, 30, (n,)).tolist() + [EOS] for n in (3, 7, 5, 9, 2)]
    batched = translate_ids(
        model, sources, DecodingConfig(max_length_ratio=1.0, max_length_offset=4), PAD, BOS, EOS, torch.device("cpu")
    )
    for source, (hypothesis,) in zip(sources, batched):
        # one sentence at a time, by hand
        state = model.encode(torch.tensor([source]), torch.tensor([len(source)]))
        prev, expected = torch.tensor([BOS]), []
        while len(expected) < len(source) + 4:
            logits, state = model.decode_step(state, prev)
            prev = logits.argmax(-1)
            expected.append(prev.item())
            if expected[-1] == EOS:
                break
        assert hypothesis.ids == [t for t in expected if t != EOS]


def test_greedy_search_respects_each_length_cap(model):
    src = pad([[5, 6, 3], [7, 3]], PAD)
    output, _ = greedy_search(model, src, torch.tensor([3, 2]), BOS, EOS, max_lengths=torch.tensor([1, 4]))
    assert output.shape == (2, 5)
    assert output[0, 1:].eq(EOS).all()  # nothing written past the first sentence's cap


def random_sources(count, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return [
        torch.randint(4, 30, (int(n),), generator=generator).tolist() + [EOS]
        for n in torch.randint(2, 10, (count,), generator=generator)
    ]


def search_batch(model, sources, **options):
    src = pad(sources, PAD)
    lengths = torch.tensor([len(s) for s in sources])
    return beam_search(model, src, lengths, BOS, EOS, max_lengths=lengths + 4, **options)


def test_beam_of_one_is_greedy(model):
    sources = random_sources(12)
    src, lengths = pad(sources, PAD), torch.tensor([len(s) for s in sources])
    greedy, log_probs = greedy_search(model, src, lengths, BOS, EOS, max_lengths=lengths + 4)
    beam = search_batch(model, sources, beam_size=1)
    for row, log_prob, (best,) in zip(greedy.tolist(), log_probs.tolist(), beam):
        assert best.ids == (row[: row.index(EOS)] if EOS in row else row)
        assert best.log_prob == pytest.approx(log_prob, abs=1e-5)


def test_beam_hypotheses_are_sorted_distinct_and_scored(model):
    sources = random_sources(6)
    for source, hypotheses in zip(sources, search_batch(model, sources, beam_size=5, n_best=5, alpha=0.6)):
        assert len(hypotheses) == 5
        assert [h.score for h in hypotheses] == sorted((h.score for h in hypotheses), reverse=True)
        assert len({tuple(h.ids) for h in hypotheses}) == 5
        cap = len(source) + 4
        for h in hypotheses:  # the score is the log-probability over the length with </s>, ** alpha
            length = len(h.ids) if len(h.ids) == cap else len(h.ids) + 1
            assert h.log_prob < 0 and h.score == pytest.approx(h.log_prob / length**0.6, rel=1e-6)


def test_beam_log_prob_is_the_models_probability_of_the_output(model):
    source = random_sources(1, seed=5)
    (best,) = search_batch(model, source, beam_size=4)[0][:1]
    tgt_in = torch.tensor([[BOS] + best.ids])
    tgt_out = best.ids + ([EOS] if len(best.ids) < len(source[0]) + 4 else [])
    logits = model(torch.tensor(source), torch.tensor([len(source[0])]), tgt_in)[0, : len(tgt_out)]
    log_prob = logits.log_softmax(-1).gather(1, torch.tensor(tgt_out).unsqueeze(1)).sum()
    assert best.log_prob == pytest.approx(log_prob.item(), abs=1e-4)


def test_batched_beam_search_equals_one_sentence_at_a_time(model):
    sources = random_sources(8, seed=3)
    batched = search_batch(model, sources, beam_size=4, n_best=3, alpha=1.0)
    for source, hypotheses in zip(sources, batched):
        alone = search_batch(model, [source], beam_size=4, n_best=3, alpha=1.0)[0]
        assert [h.ids for h in alone] == [h.ids for h in hypotheses]
        assert [h.score for h in alone] == pytest.approx([h.score for h in hypotheses], abs=1e-5)


def test_dropout_zeroes_a_share_p_and_scales_the_rest():
    dropout = Dropout(0.3)
    x = torch.ones(200, 1000, requires_grad=True)
    y = dropout(x)
    zeroed = (y == 0).float().mean().item()
    assert abs(zeroed - 0.3) < 0.01
    assert torch.allclose(y[y != 0], torch.tensor(1 / 0.7))
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # the gradient goes through the kept elements, scaled alike
    dropout.eval()
    assert dropout(x) is x


@pytest.mark.parametrize("beam_size", [1, 3])
def test_outputs_stay_within_the_positions_a_transformer_has(beam_size):
    torch.manual_seed(0)
    model = small_model({"arch": "transformer", "num_heads": 2, "ffn_size": 32, "max_positions": 12})
    never_ends = DecodingConfig(max_length_ratio=3.0, max_length_offset=10)  # caps of 19 and 31 tokens
    with torch.no_grad():
        model.output.weight[EOS] = -1e4  # no hypothesis ends before its cap
    found = translate_ids(
        model, [[5, 6, 7, EOS], [5] * 7 + [EOS]], never_ends, PAD, BOS, EOS, torch.device("cpu"), beam_size
    )
    assert [len(best.ids) for best, *_ in found] == [11, 11]  # 12 positions, one of them the start token's
    assert Ensemble([model, small_model({"arch": "attention"})]).max_positions == 12


def test_attention_models_show_their_attention_and_others_say_they_have_none():
    assert isinstance(small_model(VARIANTS["transformer"]), AttentionModel)
    assert isinstance(small_model(VARIANTS["attention-dot"]), AttentionModel)
    assert not isinstance(small_model(VARIANTS["seq2seq"]), AttentionModel)
    src, lengths, tgt_in = torch.tensor([[5, 6, 7, EOS]]), torch.tensor([4]), torch.tensor([[BOS, 8, 9]])
    for variant in ("transformer", "attention-bahdanau-feeding"):
        weights, title = small_model(VARIANTS[variant]).attention_weights(src, lengths, tgt_in, None, None)
        assert weights.shape == (3, 4) and torch.allclose(weights.sum(dim=1), torch.ones(3)) and title
    with pytest.raises(HonyakuError, match="the head must be between 0 and 1, got 2"):
        small_model(VARIANTS["transformer"]).attention_weights(src, lengths, tgt_in, None, 2)
    with pytest.raises(HonyakuError, match="attend each in their own way"):
        Ensemble([small_model(VARIANTS["transformer"])]).attention_weights(src, lengths, tgt_in, None, None)


class BigramModel:
    """A test double of the search interface whose next token depends on the last one only: from <s>, "a"
    (0.6) or "b" (0.4); after "a", </s> (0.7); after "b", "b" again (0.9), for ever."""

    max_positions = None
    A, B = 4, 5

    def __init__(self):
        table = torch.full((6, 6), 1e-4)
        table[BOS, [self.A, self.B]] = torch.tensor([0.6, 0.4])
        table[self.A, [EOS, self.A, self.B]] = torch.tensor([0.7, 0.1, 0.2])
        table[self.B, [EOS, self.B]] = torch.tensor([0.1, 0.9])
        self.log_table = table.log()
        self.steps = 0

    def encode(self, src, src_lengths):
        return torch.arange(src.size(0))  # nothing but each row's sentence

    def decode_step(self, state, prev):
        self.steps += 1
        return self.log_table[prev], state

    def select_state(self, state, rows):
        return state[rows.reshape(-1)]


def test_without_a_length_penalty_one_translation_stops_once_the_best_has_ended():
    """Once the most probable candidate has ended, no longer hypothesis can outrank it (a log-probability only
    falls as tokens are added): the search for one translation stops there; for more, or with a length penalty
    (under which a longer one can), it goes on (CTranslate2's rule)."""
    src, lengths = torch.tensor([[4, 4, 4, 4, 4, EOS]]), torch.tensor([6])

    def search(**options):
        model = BigramModel()
        found = beam_search(model, src, lengths, BOS, EOS, max_lengths=torch.tensor([20]), beam_size=2, **options)
        return model.steps, [h.ids for h in found[0]]

    assert search(n_best=1) == (2, [[BigramModel.A]])
    steps, found = search(n_best=2)
    assert steps > 2 and found[0] == [BigramModel.A]
    assert search(n_best=1, alpha=1.0)[0] > 2


def test_a_search_for_one_translation_finds_the_best_of_a_search_for_k(model):
    sources = random_sources(10, seed=7)
    one = search_batch(model, sources, beam_size=4, n_best=1)
    four = search_batch(model, sources, beam_size=4, n_best=4)
    assert [hypotheses[0].ids for hypotheses in one] == [hypotheses[0].ids for hypotheses in four]
