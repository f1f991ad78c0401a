"""An age under 18, as the hard block reads it, however a person's age is written.

Patterns for lower-cased text (the block matches them case-sensitively on lower-cased ASCII and
case-insensitively otherwise). Three kinds:
- a number with "year-old", "aged", "yo", "grade"... is an age wherever it stands;
- a bare number ("who is fourteen", "who just turned 15", "the model was 16", "a dancer, just 15,",
  "photographed at 16", "Lily (15)") is an age only where a person's age stands: held by a person (a
  pronoun, "who", or a person noun or given name of rules.toml's [ages] lists), and with nothing after
  it that makes it a quantity. "the lingerie brand turned 10", "the bikini was 12", "Sexy costumes (12)",
  "the class is at 13", "just 15 minutes", "she is 15 cm" and "her size is 14" are no age;
- as personals write it ("15F", "[F15]", "16m here", "age: 15"), with no person word needed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

_NUMBER_WORDS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 "sixteen|seventeen")
UNDER_18 = rf"(?:[1-9]|1[0-7]|one|{_NUMBER_WORDS})"
# A bare number is read from two: "who is one", "just one," are English far more often than a baby.
_BARE_UNDER_18 = rf"(?:[2-9]|1[0-7]|{_NUMBER_WORDS})"
# "just 5," "only three." and "at 9" are counts and clock times far more often than ages: the words that
# are as often a count as an age read a number from ten.
_TEN_TO_17 = r"(?:1[0-7]|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)"
# "at 12" is noon; "at 13" is an age (a 24-hour time is written "13:00", which the colon keeps out).
_THIRTEEN_TO_17 = r"(?:1[3-7]|thirteen|fourteen|fifteen|sixteen|seventeen)"
_SCHOOL_YEAR = (r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                r"eleventh|twelfth)")
_DIGITS = r"(?:[1-9]|1[0-7])"

# What may follow a person's age, never a quantity: the end, punctuation that is no decimal point,
# time or height ("15.5", "15:00", "5'4"), or a word that goes on a sentence about a person.
_AGE_FOLLOWER = (r"(?!\s+(?:or|and) (?:more|less|fewer|over|above|up|higher|lower|greater|counting)\b)"
                 r"(?:\s*(?:$|[,;!?)\]\"”…]|[.:](?!\d)|'(?![\w])|-(?![\w]))"
                r"|\s+(?:and|or|but|now|yet|already|today|then|when|while|so|too|herself|himself|here|"
                r"years? young|going on|tops|at most|at the time|this year|"
                r"last (?:week|month|year|summer|spring|winter|autumn|fall)|"
                r"yesterday|recently|soon|tomorrow|next (?:week|month|year)|she|he|i|they|wearing|posing|dressed|"
                r"in (?:a |an |her |his |their |only |just )?(?:lingerie|underwear|bikini|bra|panties|"
                r"thong|swimsuit|nightie|bed|the bath|the shower|stockings)"
                r"|on (?:a |the |her |his )?(?:bed|beach|couch|sofa))\b)")
_ENDS_AN_AGE = f"(?={_AGE_FOLLOWER})"


def _person_words() -> tuple[list[str], list[str]]:
    """rules.toml's closed lists of the people a bare number can be the age of: nouns, and given names
    (its own and the private-person rule's first names, less those that are also English words)."""
    rules = tomllib.loads(Path(__file__).with_name("rules.toml").read_text(encoding="utf-8"))
    ages = rules["ages"]
    names = dict.fromkeys(ages["given_names"] + rules["private_persons"]["first_names"])
    return ages["person_nouns"], [name for name in names if name not in ages["not_given_names"]]


def _alternatives(words: list[str]) -> str:
    return "|".join(sorted((re.escape(word.lower()) for word in words), key=len, reverse=True))


_PERSON_NOUNS, _GIVEN_NAMES = _person_words()
# A person a bare age can belong to: "the model", "a dancer", "Lily" (not after a hyphen: "Pac-Man turned 10").
_PERSON = rf"(?<![-\w])(?:{_alternatives(_PERSON_NOUNS)}|{_alternatives(_GIVEN_NAMES)})\b"
# A person who states an age: the above, a personal pronoun, or "who". Never a thing: "the brand turned 10",
# "the bikini was 12", "the cover charge is 10", "the age of consent is 16".
_SUBJECT = rf"(?:\b(?:she|he|i|who|someone|somebody)\b|{_PERSON})"
_AUXILIARY = r"(?:'s|'d|'ll|'ve| (?:has|had|have|will|would|could|might|may|must|should|shall|can|did|does))?"
# How a person's age is said before the verb: "who just turned 15", "she has only just turned 14",
# "he recently turned fifteen". Up to two, from a closed list: a thing's number never gets a person first.
_AGE_ADVERBS = ("just|only|recently|finally|barely|merely|newly|already|still|now|never|also|really|actually|"
                "literally|technically|officially|apparently|supposedly|allegedly|reportedly|probably|certainly|"
                "surely|clearly|obviously")
_ADVERB = rf"(?: (?:{_AGE_ADVERBS})){{0,2}}"
_VERB = r" (?:is|was|am|be|being|been|turned|turns|turning|turn|looks?|looking|appears?|seems?|pass(?:es)? for)"
# A person's age introduced: "who is", "the model was", "she'll be", "she's", "I'm", "made to look". "'s" only
# after a pronoun: after a name or noun it is as often a possessive ("Ocean's 11", "the model's 15 photos").
_STATES_AGE = (rf"(?:{_SUBJECT}{_AUXILIARY}{_ADVERB}{_VERB}|\b(?:she|he|who|someone|somebody)'s|\bi'?m"
               r"|\bto (?:look|appear|seem|pass for))")
# Between the verb and the number, up to two: "is just 15", "looks about fourteen", "is still only 15".
_HEDGE = (r"(?:(?:only|just|barely|merely|about|around|maybe|perhaps|like|nearly|almost|still|now|already|finally|"
          r"actually|really|literally|technically|officially|apparently|supposedly|allegedly|reportedly) ){0,2}")
# Short of eighteen: "not yet 18", "almost eighteen", "not even 15".
_SHORT_OF = rf"(?:not yet|not even|not quite|almost|nearly) (?:{UNDER_18}|18|eighteen)"
# Things done to or by a person at an age: "photographed at 15", "married at 16" (not "the class is at 13").
_AT_AN_AGE_AFTER = (r"\b(?:photographed|filmed|pictured|posed|posing|modell?ed|modell?ing|married|wed|pregnant|"
                    r"nude|naked|topless|undressed|seduced|abused|molested|groomed|discovered|scouted|virginity|"
                    r"of (?:me|her|him))")

# An aged spirit or cheese: "whisky aged 15 years in oak", "cheddar aged 12 months".
_AGED_GOODS = ("whisky", "whiskey", "scotch", "bourbon", "rum", "malt", "cognac", "brandy", "wine", "port",
               "cheese", "cheddar", "gouda", "parmesan", "beef", "steak", "spirit", "spirits", "vinegar")
_NOT_AFTER_AGED_GOODS = "".join(rf"(?<!\b{word} )" for word in _AGED_GOODS)
_NOT_AGED_IN_CASK = (r"(?! (?:years?|months?|days?) (?:in|on) (?:\w+ ){0,2}(?:oak|casks?|barrels?|wood|sherry|"
                   r"bourbon|bottles?|butts?|hogsheads?))")

AGE = "|".join([
    # a number that says it is an age
    rf"\b{UNDER_18}[- ]?(?:years?|yrs?)[- ]?olds?\b",     # "a 15-year-old", "fifteen year olds"
    rf"\b{UNDER_18} (?:years?|yrs?) of age\b",             # "14 years of age"
    rf"(?=aged? ){_NOT_AFTER_AGED_GOODS}\baged? {UNDER_18}\b{_NOT_AGED_IN_CASK}",  # "aged 9", not "whisky aged 12"
    rf"\bages? ?(?:[:=-]|of|is|was) ?{UNDER_18}\b",       # "age: 15", "at the age of 14", "age - 16"
    rf"\b{UNDER_18}[- ]?(?:yo\b(?!-)|y/o\b|y\. ?o\b\.?)",  # "12yo", "fourteen yo", "12 y. o." (not "two yo-yos")
    rf"\b{_DIGITS}-?yrs?\b",                               # "16yrs"
    rf"(?<![-+*/=^.,\w]){_DIGITS} ?y(?=(?:{_AGE_FOLLOWER})|\s+old\b)(?!\s*[-+*/=^(])",  # "15 y", "15y old"
    r"\bunder[- ]?(?:1[2-8]|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen)s?\b",  # "under 16"
    rf"\b{_SCHOOL_YEAR}[- ]grade(?:rs?)?\b",                 # "a 6th grader", "9th grade"
    r"\bgrade (?:[1-9]|1[0-2])\b",                          # "grade 8"
    # a British school year beside its pupils ("a Year 9 girl"), not "in year 2 of our marriage"
    r"\byear (?:[1-9]|1[0-2]) (?:pupils?|students?|class(?:es)?|girls?|boys?|kids?|children|form)\b",
    # below an age that is a line ("below the age of consent", "not yet 18", "almost eighteen")
    r"\b(?:below|under|beneath|short of|not yet (?:of|at|reached)) (?:the )?(?:age of consent|legal age|"
    r"age of majority|consenting age)\b",
    r"\bunder age\b(?![- ]?\d)",
    # a bare number where a person's age stands: after a person, never after a thing
    # (the lookahead for the number comes first: the person alternation tried at every word is the slow part)
    rf"\b(?=\w+(?:'\w+)?(?:,| -)?(?: [\w']+)*? \(?(?:{_BARE_UNDER_18}|18|eighteen)\b)(?:"
    rf"{_STATES_AGE} {_HEDGE}{_BARE_UNDER_18}{_ENDS_AN_AGE}"                # "who is fourteen", "she's 15"
    rf"|(?:{_STATES_AGE}|{_PERSON},?) {_SHORT_OF}{_ENDS_AN_AGE}"             # "a model not yet 18"
    rf"|(?:{_STATES_AGE}|{_PERSON},?) not (?:18|eighteen) yet\b"            # "she's not 18 yet"
    rf"|{_PERSON}, {_HEDGE}{_BARE_UNDER_18}{_ENDS_AN_AGE}"                  # "a model, 15,", "Sofia, about 14."
    rf"|{_PERSON} - {_HEDGE}{_BARE_UNDER_18}(?= - [a-z]|\s*(?:$|[,;.!?]))"  # "a model – 15 – posing"
    rf"|{_PERSON} (?:just|only|barely|merely) {_TEN_TO_17}{_ENDS_AN_AGE}"    # "a model just 15"
    rf"|{_PERSON},? below (?:1[2-8]|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen){_ENDS_AN_AGE}"
    rf"|(?:{_PERSON}|{_AT_AN_AGE_AFTER}) at (?:just |only |barely )?{_THIRTEEN_TO_17}{_ENDS_AN_AGE}"  # "photographed at 15"
    rf"|{_PERSON} \({_DIGITS}\)(?!\s*(?:,|and|or|to|-)\s*\(?\d)"
    rf"(?=(?:{_AGE_FOLLOWER})|\s+(?:who|was|is|has|had|nude|naked|topless)\b)"  # "Lily (15)", "Sofia (16) nude"
    r")",
    # "just 15, she posed", "at sixteen she": the person comes after
    rf"\b(?:(?:just|only|barely|merely) {_TEN_TO_17}|at (?:just |only |barely )?{_THIRTEEN_TO_17}),? (?:she|he|i)\b",
    rf"\bbelow the age of (?:1[2-8]|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen){_ENDS_AN_AGE}",
    # as personals and captions write it: "15F", "16m4f", "(15f)", "[F15]", "I'm 16m"
    rf"\b{_DIGITS} ?[fm] ?4 ?[fm]\b",
    rf"[(\[] ?{_DIGITS} ?[fm] ?[)\]]|\[ ?[fm] ?{_DIGITS} ?\]",
    rf"(?<![-+.,\w])(?<!size )(?<!cup )(?<!bra ){_DIGITS}f\b(?![-/.]?\d|-)"
    r"(?!\s*(?:degrees?|outside|overnight|today|tonight|lows?|highs?|temps?|temperatures?|weather|wind|below|above|"
    r"freezing|bras?|cups?|sizes?|band|underwire)\b)",  # "15F", not "16F outside" or a bra size ("a 12F bra")
    rf"\b{_DIGITS}[fm](?=\s+(?:here|looking|seeking|lf\w*|hmu|dm|bored|single)\b)",
    rf"\b(?:i'?m|i am|me:?) {_DIGITS} ?[fm]\b",
])
