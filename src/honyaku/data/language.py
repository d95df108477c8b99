"""Which language a text is written in, told from the scripts of its letters: what decides which model translates
it, and which texts no model here reads.

Japanese is told by its kana and kanji, English by Latin letters, each character weighed by how much of a language
it carries: hiragana (particles, endings) is Japanese grammar, kanji and katakana are also the Japanese words that
English text quotes, a Latin letter is a fraction of a word. So "I love 寿司 very much." reads as English and
"Tokyo は大きい" as Japanese, where one kanji or one Latin word decided before. Latin letters that spell Japanese
syllable by syllable (romaji: "watashi wa gakusei desu") read as romaji, which no model reads; so do the other
scripts (Hangul, Cyrillic, Greek, Arabic, Hebrew, Thai, Devanagari), Chinese, told from Japanese by the
simplified characters that Japanese does not write, and French, Spanish, German and their neighbours, told by
their function words. A text without letters (numbers, emoji, symbols) reads as
none: any model copies it. No library, no model file: a few regular expressions, fast enough for every line of a
file, and measured on ``examples/languages.tsv`` (bench/languages.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # BCP 47: en, ja, ja-Latn (romaji), zh, ko, or und-<script> for a script of several languages
    name: str  # for messages: "Japanese", "Korean (Hangul)"


ENGLISH = Language("en", "English")
JAPANESE = Language("ja", "Japanese")
ROMAJI = Language("ja-Latn", "Japanese in Latin letters (romaji)")
OTHER_LATIN = Language("und-Latn", "a language in Latin script other than English")
CHINESE = Language("zh", "Chinese")
OTHER_SCRIPTS = (
    (re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"), Language("ko", "Korean (Hangul)")),
    (re.compile(r"[\u0400-\u052f]"), Language("und-Cyrl", "a language in Cyrillic script")),
    (re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]"), Language("und-Grek", "a language in Greek script")),
    (re.compile(r"[\u0600-\u06ff\u0750-\u077f]"), Language("und-Arab", "a language in Arabic script")),
    (re.compile(r"[\u0590-\u05ff]"), Language("he", "Hebrew")),
    (re.compile(r"[\u0e00-\u0e7f]"), Language("th", "Thai")),
    (re.compile(r"[\u0900-\u097f]"), Language("und-Deva", "a language in Devanagari script")),
)

# The languages that ``identify`` names (a model of another language is never judged by it)
IDENTIFIED = frozenset({"en", "ja", "zh", "ko", "he", "th"})

HIRAGANA = re.compile(r"[\u3041-\u309f]")
# Katakana, and the full-width Latin letters that Japanese input methods type (ＯＫ, ＡＢＣ社)
KATAKANA = re.compile(r"[\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f\uff21-\uff3a\uff41-\uff5a]")
KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# Weights per character: a hiragana is grammar and so Japanese beyond doubt; a kanji or a katakana may be a
# Japanese word in English text (寿司, カラオケ); an English word is about four Latin letters.
WEIGHTS = {"hiragana": 4.0, "kanji": 2.0, "katakana": 1.0, "latin": 1.0}
# Frequent characters of simplified Chinese that Japanese does not write (Japanese: 們 們 這 說 為 時 …).
SIMPLIFIED = re.compile(
    "[们这说为时来对会个过没么还发关头样经开机长东车书门问间题实现应觉闻让话当见从产动进种写听边买卖钱电"
    "亲爱认识请谢乐欢级热脑业务员]"
)

# Hepburn syllables (and the kunrei/wāpuro spellings people type): a word that is a run of them, and is no
# common English word, is read as romaji.
SYLLABLE = r"(?:kk|ss|tt|pp|cc)?(?:[kgszjtdnhbpmyrwfvc]h?y?|ts|sh|ch|j)?[aiueo]|n(?![aiueoy])|-"
ROMAJI_WORD = re.compile(f"(?:{SYLLABLE})+")
COMMON_ENGLISH = frozenset(
    """a i o no to be go do so we he me us in on an am as at by if is it of or up my oh ok ah
    are was were has had have the and but not you your her his him she they them then than this that with from
    for all any can may make made take name came same game time come some home one done gone none more more sure
    use due age are ago ate bake cake face fine five hope joke like line mine nine note page rate rose save side
    site size tone tune wake wide wine wise yoga zone anime sake sumo tofu judo karate karaoke emoji kimono manga
    sushi tsunami ninja samurai sake ramen wasabi mode made
    """.split()
)


# Function words of the languages most often written in Latin letters besides English (French, Spanish,
# Portuguese, Italian, German, Dutch): a text made of them is not English.
OTHER_FUNCTION_WORDS = frozenset(
    """le la les des du et est une un pas pour avec dans qui que je tu il elle nous vous ils sont ce cette
    el los las es y del por con para una uno muy pero como cómo está estás estoy tengo gracias hola qué dónde
    não sim obrigado você é com os uma
    il di che non sono della per una gli sei ciao grazie
    der die das und ist nicht ich du sie wir ein eine mit auf für bitte danke schön ja nein
    het een niet ik je wij zijn met voor
    """.split()
)


def identify(text: str) -> Language | None:
    """The language ``text`` reads as (see the module's docstring), or None where it has no letters."""
    for script, language in OTHER_SCRIPTS:
        if script.search(text):
            return language
    hiragana, katakana = len(HIRAGANA.findall(text)), len(KATAKANA.findall(text))
    kanji, latin = len(KANJI.findall(text)), len(LATIN.findall(text))
    if not (hiragana or katakana or kanji or latin):
        return None
    if kanji and not (hiragana or katakana) and SIMPLIFIED.search(text):
        return CHINESE
    japanese = WEIGHTS["hiragana"] * hiragana + WEIGHTS["kanji"] * kanji + WEIGHTS["katakana"] * katakana
    if japanese > WEIGHTS["latin"] * latin:
        return JAPANESE
    if reads_as_romaji(text):
        return ROMAJI
    return OTHER_LATIN if reads_as_other_latin(text) else ENGLISH


def reads_as_romaji(text: str) -> bool:
    """At least two words, most of them runs of Japanese syllables that are no common English word."""
    words = re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text.lower())
    if len(words) < 2:
        return False
    syllabic = [w for w in words if len(w) > 1 and ROMAJI_WORD.fullmatch(w) and w not in COMMON_ENGLISH]
    return len(syllabic) >= 2 and len(syllabic) >= 0.6 * len(words)


def reads_as_other_latin(text: str) -> bool:
    """At least two function words of another Latin-script language, and more of them than of English."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    other = sum(word in OTHER_FUNCTION_WORDS for word in words)
    english = sum(word in COMMON_ENGLISH for word in words)
    return other >= 2 and other > english
