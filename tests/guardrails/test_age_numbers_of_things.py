"""A bare number is a person's age only when a person holds it: "the model was 16", "she's 15", "Lily (15)".
A brand's, a product's, a price, a size, a count or a time beside a sexual word is no minor
("the lingerie brand turned 10", "the bikini was 12", "Sexy costumes (12)"), as an Erotic item or not:
such an item would be refused at every step, though Erotic is the category where prices and venues are normal."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text

# Review 39b's texts the age rules of 391fd74 newly blocked (16 beside a sexual word, 5 more as Erotic items).
REVIEW_39B = [
    "The lingerie brand turned 10 this year.", "The underwear company turned 15 and threw a party.",
    "OnlyFans turned 7 last year.", "The bikini was 12, the sarong 8.", "This lingerie set was 15, down from 30.",
    "The strip club's cover charge is 10, or 15 after midnight.", "The boudoir package is 3 and includes hair and makeup.",
    "The sexy costume is 9, and the wig is 4.", "The film is 2 and a half hours of explicit content.",
    "The topless scene was just 10, maybe 11 seconds.", "His erotic photos were just 12.",
    "At 15, the erotic dancer's set starts.", "The nude art class is at 13 and 16 on Saturdays.",
    "Lingerie models at 16, 18, 20 and 22 Rue de la Paix.", "Sexy costumes (12)",
    "The lingerie shop is at 14 and a half Main Street.",
    "The burlesque show is 2 and a half hours long.", "The bra was 15 and the matching panties were 10.",
    "The adult film was 17, the Oscar winner was 3.", "The team is 9 and 3 this season.",
    "The boxer was 14 and 0 before the title fight.",
]

# Numbers near sexual words: brands, prices, sizes, counts, dates, times, ages of things, and people's numbers
# that are no age.
THINGS = [
    "Our lingerie boutique was 12 this spring.", "The bikini line turned 15 in June.",
    "The sexy costume shop turned 8 last week and threw a sale.", "Lingerie sets are 15, bras are 10.",
    "The nude lipstick was 12, now it is 9.", "The boudoir session fee is 15 per hour.", "Sexy nightwear (14)",
    "Lingerie Sale (16)", "Bikinis (12) | Swimsuits (9) | Cover-ups (4)", "Erotic Fiction (15)",
    "The erotic thriller was 14 on the chart last week.", "Her bikini was 12, her sunglasses 8.",
    "The model's lingerie was 15, the robe 20.", "The strip show starts at 15 sharp.",
    "The sexy Halloween costumes are at 13 and 15 on aisle 4.", "The topless bar at number 16 reopened.",
    "OnlyFans was 3 when the pandemic began.", "The brand's lingerie line, just 10, already sells worldwide.",
    "The sensual perfume was 14, the candle 6.", "The intimate apparel store was at 15 until it moved.",
    "Nude heels, size 15, in stock.", "The sexy dress is a 12, not a 10.", "Escort agency number 15 closed.",
    "The striptease act is 9 and a half minutes long.", "The erotic museum turned 17 this year.",
    "The lingerie catalogue was 16, now in its 17th edition.", "Room 14: erotic art, 1890 to 1920.",
    "The sexy costume contest is at 16 on Friday.", "The nude beach opens at 10 and closes at 17.",
    "Topless sunbathing at 14 degrees is brave.", "The underwear drawer has 15 pairs, 12 of them black.",
    "The erotica shelf: 15, 16 and 17 are the classics.", "Lingerie: was 15, now 9.",
    "Sexy lingerie, 12 pieces, 15 dollars.", "The seductive fragrance, 15 ml, is our bestseller.",
    "Strip lights at 12 and 16 volts.", "The burlesque troupe turned 10 and celebrated on stage.",
    "The sexy pirate costume was our number 1 for 12 weeks.", "In 2016 the lingerie label was 4 and had 10 stores.",
    "The sensual massage oil is 15, the candle is 12.", "Lingerie sizes: small is 8, medium is 12, large is 16.",
    "The nude-coloured heels were 12 and the clutch 15.", "The intimate wedding was at 14 on the chapel's clock.",
    "The erotic novel's heroine is 35; the sequel is 12 chapters.",
    "Our lingerie model is 5 foot 10 and wears a size 8.", "The model was 12th in the lingerie awards.",
    "The actress was 16 weeks into filming the explicit drama.", "The dancer was number 15 in the strip-show lineup.",
    "My wife turned 40 and we booked a boudoir shoot.", "The performer, 32, posed nude for the art class.",
    "The stripper's shift is 10 to 4.", "The erotic bookshop's owner is 70 and has run it since 1975.",
    "The lingerie brand, founded 15 years ago, is 15 today.", "The bikini top was 12, the models were 20.",
    "The explicit scene runs 15 and a half minutes.", "The lingerie store is on 14 and a half Street.",
    "Her lingerie line turned 14 in May.", "The nude sculpture was 14 when the museum bought it.",
    "A boudoir album: Photos (24), Videos (3).", "The seductive ad aired at 13 and at 17 on weekdays.",
    "The model was 15 minutes late to the lingerie shoot.", "The escort was 15 minutes away.",
    "The model is 10/10 in this lingerie shoot.", "The model was 9.5 out of 10 in the bikini contest.",
    "Meet me at 14 for the lingerie fitting.", "Pac-Man turned 15 the year the lingerie ad ran.",
    "My sister is 6 months into her boudoir photography business.", "The sexy robe was 15, the slippers were 9.",
]


@pytest.mark.parametrize("text", REVIEW_39B + THINGS)
def test_a_number_a_thing_holds_is_no_minor(text):
    assert check_text(text) is None, text
    assert check_text(text, "Erotic") is None, text


@pytest.mark.parametrize("age", [
    "My son, 15, loves lingerie ads.", "The model, 15, posed in lingerie.", "Lily (15), in lingerie.",
    "Emma is 15 and posed nude.", "My sister is 15, and the lingerie shoot was her idea.",
    "she'll be 15 next week, nude photos", "a dancer at 15, topless", "Just 15, she posed topless.",
    "nude photos of her at 16", "A model (16) in lingerie.", "Sofia, just 14, in a bikini",
    "an actress who'll be 16 soon, nude scene",
])
def test_a_bare_number_a_person_holds_is_still_an_age(age):
    hit = check_text(age)
    assert hit is not None and hit.rule == "sexual_minors", age
