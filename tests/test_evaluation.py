from honyaku.core.metrics import bleu, chrf, score_all


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


def test_corpus_token_bleu_does_not_warn_that_tokenized_lines_look_undetokenized(caplog):
    lines = [f"he has {n} books ." for n in range(120)]
    assert round(bleu(lines, lines).score, 6) == 100.0
    assert "forgot to detokenize" not in caplog.text
    bleu(lines, lines, tokenize="13a")  # on natural text the warning stays: there it means something
    assert "forgot to detokenize" in caplog.text
