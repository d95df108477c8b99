from honyaku.evaluation import bleu, chrf, score_all


def test_bleu_is_on_the_given_tokens_with_signature():
    references = ["私 は トム です 。", "これ は ペン です 。"]
    perfect = bleu(references, references)
    assert round(perfect.score, 6) == 100.0 and "tok:none" in perfect.signature
    # with tokenize=none, unsegmented text is a single token and cannot match the segmented references
    assert bleu(["私はトムです。", "これはペンです。"], references).score == 0.0
    assert 0 < bleu(["私 は トム だ 。", "これ は ペン です 。"], references).score < 100


def test_score_all_reports_bleu_then_chrf():
    results = score_all(["a b c d"], ["a b c d"])
    assert [r.name for r in results] == ["BLEU", "chrF"]
    assert results[1].score == chrf(["a b c d"], ["a b c d"]).score == 100.0
    assert all("signature: " in r.line() for r in results)
