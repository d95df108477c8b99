import random

import torch

from honyaku.data.batching import ParallelData, collate, make_batches


def random_data(n=1000, seed=0):
    rng = random.Random(seed)
    src_lengths = [rng.randint(2, 30) for _ in range(n)]
    src = [[5] * length for length in src_lengths]
    tgt = [[5] * max(2, length + rng.randint(-2, 2)) for length in src_lengths]  # lengths correlate, as in real text
    return ParallelData(src, tgt)


def padded_tokens(data, batches):
    """Source plus target positions in the padded tensors."""
    return sum(len(b) * (max(len(data.src[i]) for i in b) + max(len(data.tgt[i]) for i in b)) for b in batches)


def test_batches_cover_every_pair_once_within_budgets():
    data = random_data()
    batches = make_batches(data, batch_size=32, batch_tokens=400, seed=1, epoch=0)
    assert sorted(i for b in batches for i in b) == list(range(len(data)))
    for batch in batches:
        longest = max(max(len(data.src[i]), len(data.tgt[i])) for i in batch)
        assert len(batch) <= 32 and (len(batch) * longest <= 400 or len(batch) == 1)


def test_length_buckets_waste_little_padding():
    data = random_data()
    bucketed = make_batches(data, batch_size=32, batch_tokens=None, seed=1, epoch=0)
    order = list(range(len(data)))
    random.Random(0).shuffle(order)
    unsorted = [order[i : i + 32] for i in range(0, len(order), 32)]
    real = sum(len(s) + len(t) for s, t in zip(data.src, data.tgt))
    assert padded_tokens(data, bucketed) / real < 1.1 < 1.5 < padded_tokens(data, unsorted) / real


def batch_lists(*args, **kwargs) -> list[list[int]]:
    return [batch.tolist() for batch in make_batches(*args, **kwargs)]


def test_order_is_reproducible_by_seed_and_epoch():
    data = random_data()
    assert batch_lists(data, 16, None, seed=1, epoch=3) == batch_lists(data, 16, None, seed=1, epoch=3)
    assert batch_lists(data, 16, None, seed=1, epoch=3) != batch_lists(data, 16, None, seed=1, epoch=4)
    assert batch_lists(data, 16, None, seed=1, epoch=3) != batch_lists(data, 16, None, seed=2, epoch=3)


def test_collate_shifts_targets_and_pads():
    data = ParallelData(src=[[7, 8, 3], [9, 3]], tgt=[[2, 10, 11, 3], [2, 12, 3]])
    batch = collate(data, [0, 1], pad_id=0)
    assert batch.src.tolist() == [[7, 8, 3], [9, 3, 0]]
    assert batch.src_lengths.tolist() == [3, 2]
    assert batch.tgt_in.tolist() == [[2, 10, 11], [2, 12, 3]]
    assert batch.tgt_out.tolist() == [[10, 11, 3], [12, 3, 0]]
    assert batch.num_target_tokens == 5 and batch.src.dtype == torch.long


def test_batches_are_those_of_sorting_the_shuffled_pairs_by_length():
    """The order the batches had when they were cut from Python lists, which resumed runs depend on."""
    data = random_data(3000, seed=5)
    generator = torch.Generator().manual_seed(7 * 1_000_003 + 2)
    shuffled = torch.randperm(len(data), generator=generator).tolist()
    order = sorted(shuffled, key=lambda i: (len(data.src[i]), len(data.tgt[i])))
    batches, current, longest = [], [], 0
    for i in order:
        length = max(len(data.src[i]), len(data.tgt[i]))
        if current and (len(current) == 48 or (len(current) + 1) * max(longest, length) > 700):
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, length)
    batches.append(current)
    expected = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    assert batch_lists(data, batch_size=48, batch_tokens=700, seed=7, epoch=2) == expected
