"""An age under 18, as the hard block reads it, however a person's age is written.

Patterns for lower-cased text (the block matches them case-sensitively on lower-cased ASCII and
case-insensitively otherwise). Two kinds:
- a number with "year-old", "aged", "yo", "grade"... is an age wherever it stands;
- a bare number ("who is fourteen", "just 15", "at 16", "Lily (15)", "15f") is an age only where a
  person's age stands: after a word that introduces one, and with nothing after it that makes it a
  quantity. "just 15 minutes", "only 14 left", "is 15 cm", "turned 15 degrees", "at 15:00", "her size
  is 14" and "page 15" are no age; "just 15," "who is fourteen." and "turned 15 and" are.
"""

from __future__ import annotations

import re

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
                r"|\s+(?:and|or|but|now|yet|already|today|then|when|while|so|too|herself|himself|"
                r"going on|tops|at most|at the time|this year|last (?:week|month|year|summer|spring|winter|autumn|fall)|"
                r"yesterday|recently|soon|tomorrow|next (?:week|month|year)|she|he|i|they|wearing|posing|dressed|"
                r"in (?:a |an |her |his |their |only |just )?(?:lingerie|underwear|bikini|bra|panties|"
                r"thong|swimsuit|nightie|bed|the bath|the shower|stockings))\b)")
_ENDS_AN_AGE = f"(?={_AGE_FOLLOWER})"

# A subject whose number is a quantity, not an age: "her size is 14", "the price was 15", "it's 16".
_QUANTITY_SUBJECTS = (
    "it", "this", "that", "there", "here", "what", "which", "size", "sizes", "price", "cost", "score", "number",
    "total", "count", "answer", "result", "rating", "page", "room", "chapter", "section", "temperature", "temp",
    "level", "version", "height", "weight", "length", "width", "depth", "speed", "distance", "time", "hour",
    "ratio", "rank", "ranking", "bust", "waist", "hips", "cup", "shoe", "limit", "minimum", "maximum", "average",
    "sum", "value", "amount", "quantity", "percentage", "code", "pin", "id", "year", "day", "date", "month",
    "week", "episode", "season", "issue", "item", "step", "stage", "phase", "round", "lap", "floor", "row",
    "seat", "gate", "platform", "track", "figure", "table", "line", "part", "volume", "bid", "fee", "rent",
    "budget", "balance", "capacity", "index", "rate", "dose", "stock", "odds", "target", "goal", "record",
    "lead", "margin", "difference", "max", "min", "grade", "cycle", "channel", "model number",
    # an age that is a law's, not a person's: "the age of consent is 16"
    "consent", "majority", "minimum age", "legal age", "driving age", "voting age", "drinking age",
)
_NOT_AFTER_QUANTITY = "".join(rf"(?<!\b{re.escape(word)} )" for word in _QUANTITY_SUBJECTS)
# Words that introduce a person's age: "who is", "she's", "I'm", "turned", "looks", "passes for". "'s" only
# after a pronoun: after a name it is as often a possessive ("Ocean's 11").
_STATES_AGE = (r"\b(?:is|was|am|be|being|been|turned|turns|turning|turn|looks?|looking|appears?|seems?|"
               r"pass(?:es)? for|(?:she|he|who|someone|somebody|one)'s|i'?m)")
# Between the verb and the number: "is just 15", "looks about fourteen", "turned only 16".
_HEDGE = r"(?:(?:only|just|barely|merely|about|around|maybe|perhaps|like|nearly|almost|still|now|already) )?"
# The name of a thing an age is never given in brackets: "Section (15)", "step (3)", "equation (12)". ("girls
# (15)" is a minor anyway: "girls" is a minor word.)
_REFERENCE_WORDS = ("section", "sections", "equation", "eq", "step", "steps", "figure", "fig", "note", "notes",
                    "item", "items", "page", "pages", "line", "lines", "ref", "chapter", "article", "paragraph",
                    "rule", "clause", "table", "question", "part", "footnote", "exercise", "version", "option",
                    "point", "level", "stage", "phase", "day", "week", "round", "episode", "season", "issue",
                    "vol", "no", "number", "size", "sizes", "and", "or", "to", "see", "of", "in", "total",
                    # a page's count of what it lists: "Photos (15)", "Comments (12)"
                    "photos", "pics", "pictures", "images", "videos", "clips", "comments", "replies", "messages",
                    "posts", "reviews", "results", "likes", "views", "votes", "files", "members", "followers",
                    "products", "listings", "matches", "answers", "questions", "notifications", "tags", "albums",
                    "sets", "seeds", "units", "models", "girls", "boys")
_NOT_AFTER_REFERENCE = "".join(rf"(?<!\b{word} )" for word in _REFERENCE_WORDS)
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
    rf"\b(?:not yet|not even|not quite|almost|nearly) (?:{UNDER_18}|18|eighteen){_ENDS_AN_AGE}",
    r"\bnot (?:18|eighteen) yet\b",
    rf"\bbelow (?:the age of )?(?:1[2-8]|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen){_ENDS_AN_AGE}",
    # a bare number where a person's age stands
    # (the lookbehinds come after a look ahead for the words: a hundred lookbehinds tried at every character
    # made the block 6x slower)
    rf"(?={_STATES_AGE} {_HEDGE}{_BARE_UNDER_18}\b){_NOT_AFTER_QUANTITY}"
    rf"{_STATES_AGE} {_HEDGE}{_BARE_UNDER_18}{_ENDS_AN_AGE}",                # "who is fourteen", "turned 15 and"
    rf"\b(?:just|only|barely|merely) {_TEN_TO_17}{_ENDS_AN_AGE}",         # "a topless model, just 15,"
    rf"\bat (?:just |only |barely )?{_THIRTEEN_TO_17}{_ENDS_AN_AGE}",     # "nude at 15", "at sixteen she"
    rf"\b(?={_BARE_UNDER_18} and a half){_NOT_AFTER_QUANTITY}\b{_BARE_UNDER_18} and a half{_ENDS_AN_AGE}",  # "15 and a half"
    rf"(?=\(\d)(?<=[a-z] ){_NOT_AFTER_REFERENCE}\({_DIGITS}\)(?!\s*(?:,|and|or|to|-)\s*\(?\d)"
    rf"(?=(?:{_AGE_FOLLOWER})|\s+(?:who|was|is|has|had)\b)",  # "Lily (15)"
    # as personals and captions write it: "15F", "16m4f", "(15f)", "[F15]", "I'm 16m"
    rf"\b{_DIGITS} ?[fm] ?4 ?[fm]\b",
    rf"[(\[] ?{_DIGITS} ?[fm] ?[)\]]|\[ ?[fm] ?{_DIGITS} ?\]",
    rf"(?<![-+.,\w]){_DIGITS}f\b(?![-/.]?\d|-)(?!\s*(?:degrees?|outside|overnight|today|tonight|lows?|highs?|temps?|"
    r"temperatures?|weather|wind|below|above|freezing)\b)",  # "15F", not "16F outside"
    rf"\b{_DIGITS}[fm](?=\s+(?:here|looking|seeking|lf\w*|hmu|dm|bored|single)\b)",
    rf"\b(?:i'?m|i am|me:?) {_DIGITS} ?[fm]\b",
])
