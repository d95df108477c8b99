"""How to train on corpora of two forms (small_parallel_enja's lowercased tokens, tatoeba_enja's text as written):
the ceiling each choice puts on the scores, measured on both dev sets without training, and written into
bench/RESULTS.md.

    python bench/text_forms.py [--data-dir DIR]

Through the text processors (honyaku's choice): raw text is tokenized like the corpus, so a model's output is
the corpus's tokens, detokenized for the user. A perfect model then scores on tatoeba_enja's dev what its text
scores after tokenizing and detokenizing (casing and full-width forms are what is lost). SentencePiece over text
as written: the corpus's tokens are detokenized for training, and the output is text; on small_parallel_enja's
dev, scored on the corpus's own tokens, a perfect model scores what its detokenized text scores once the
processor tokenizes it again (MeCab's segmentation is not the corpus's KyTea).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from results_file import RESULTS, run_main, write_section

from honyaku.core.data_config import DataConfig
from honyaku.core.metrics import bleu, chrf, natural_text_tokenizer
from honyaku.data.corpus import evaluation_set, read_split
from honyaku.data.text import get_processor, split_tokens

PROCESSORS = {"en": "english", "ja": "japanese"}

HEADER = [
    "## Training on raw text: processors or SentencePiece over text (bench/text_forms.py)",
    "",
    "The best score a perfect model could reach on each dev set under each choice, measured without training: each",
    "dev side put through the round trip that the choice imposes on output. Through the text processors",
    "(tokenize, then detokenize) on tatoeba_enja's text; SentencePiece over text as written (detokenize the",
    "corpus's tokens, then tokenize the text to score it on the corpus's tokens) on small_parallel_enja. honyaku",
    "trains through the processors: what they lose on natural text (the casing of names where no casing table",
    "restores it, full-width digits) is small; what text-level SentencePiece would lose on the corpus's own tokens",
    "is not.",
    "",
    "| choice | dev set | language | BLEU ceiling | chrF2 ceiling | BLEU signature |",
    "|---|---|---|---:|---:|---|",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = []
    for language, other in (("en", "ja"), ("ja", "en")):
        processor = get_processor(PROCESSORS[language])
        # the targets of other→language: the language's side of each dev set
        data = DataConfig(corpus="tatoeba_enja", src_lang=other, tgt_lang=language)
        text = [ref for refs in evaluation_set(data, "dev", args.data_dir).references for ref in refs]
        round_trip = [processor.detokenize(processor.tokenize(sentence)) for sentence in text]
        tokenizer = natural_text_tokenizer(language)
        rows.append(row("through the text processors", "tatoeba_enja dev", language, round_trip, text, tokenizer))
        data = DataConfig(corpus="small_parallel_enja", src_lang=other, tgt_lang=language)
        tokens = read_split(data, "dev", args.data_dir)[1]
        round_trip = [" ".join(processor.tokenize(processor.detokenize(split_tokens(line)))) for line in tokens]
        rows.append(row("SentencePiece over text", "small_parallel_enja dev", language, round_trip, tokens, "none"))
    for line in rows:
        print(line)
    write_section(args.results, "text-forms", HEADER, rows, keep_rows=False)


def row(choice: str, dev: str, language: str, hypotheses: list[str], references: list[str], tokenizer: str) -> str:
    found = bleu(hypotheses, references, tokenizer)
    signature = found.signature.replace("|", "\\|")
    return (
        f"| {choice} | {dev} | {language} | {found.score:.2f} | {chrf(hypotheses, references).score:.2f} | "
        f"`{signature}` |"
    )


if __name__ == "__main__":
    run_main(main, "text_forms.py")
