"""The licence identifiers a Hugging Face card's `license` may hold, and `leakless release --license`'s check.

huggingface_hub ships no list of them (its DatasetCardData takes any text, so "CC BY 4.0" would reach the
Hub unchecked), so the list is here, copied from the Hub's own page of licences:
https://huggingface.co/docs/hub/repositories-licenses (source: huggingface/hub-docs,
docs/hub/repositories-licenses.md at commit 008d54d08fd9d5d05ed2840bebb0b61111326a15, its "region licenses"
table), and the Llama 3 identifiers the Hub added since (hub-docs pull request 1619 lists llama3 to llama3.3).
The Hub adds identifiers after any copy, so an identifier spelt as one (lowercase letters, digits, '.', '-', '+')
but not listed is taken with a note, not refused (`unlisted_licence_note`): only text that is no identifier
("CC BY 4.0", "MIT") is refused. One the Hub does not take can be given as `other:<name>`, which the card writes as
`license: other` with `license_name: <name>`.
"""

from __future__ import annotations

import difflib
import re

HUB_LICENCES = frozenset({
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m", "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0", "bsd", "bsd-2-clause", "bsd-3-clause",
    "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0",
    "cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0", "epl-1.0", "epl-2.0",
    "etalab-2.0", "eupl-1.1", "agpl-3.0", "gfdl", "gpl", "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0",
    "isc", "lppl-1.3c", "ms-pl", "mpl-2.0", "odc-by", "odbl", "openrail++", "osl-3.0", "postgresql", "ofl-1.1",
    "ncsa", "unlicense", "zlib", "pddl", "lgpl-lr", "deepfloyd-if-license", "llama2", "gemma", "unknown", "other",
    "llama3", "llama3.1", "llama3.2", "llama3.3",
})
OTHER = "other"
OTHER_PREFIX = "other:"  # `other:<name>`: a licence outside the list, named as the card's `license_name`
# the Hub's card template asks for an id like `my-license-1.0` in `license_name`
LICENCE_NAME = re.compile(r"[a-z0-9][a-z0-9.+-]*")


def hub_licence(licence: str) -> tuple[str, str | None]:
    """(the card's `license` identifier, its `license_name` or None): `other:<name>` is `other` named."""
    if licence.startswith(OTHER_PREFIX):
        return OTHER, licence[len(OTHER_PREFIX):]
    return licence, None


def licence_problem(licence: str) -> str | None:
    """Why `--license` is not one the card can carry to the Hub, with the identifier it was likely meant
    to be; None when it is one (or `other:<name>` with a name the Hub takes)."""
    licence_id, name = hub_licence(licence)
    if name is not None:
        if LICENCE_NAME.fullmatch(name):
            return None
        return (f"--license {licence}: the name after other: must be an id like my-licence-1.0 "
                "(lowercase letters, digits, '.', '-', '+')")
    if licence_id == OTHER:
        return ("--license other needs the licence's name, which the card gives the Hub as license_name: "
                "--license other:<name>, e.g. other:my-licence-1.0")
    if licence_id in HUB_LICENCES or LICENCE_NAME.fullmatch(licence_id):
        return None  # an identifier this copy of the list does not know yet: `unlisted_licence_note`
    guess = likely_meant(licence_id)
    hint = f"did you mean {guess}? " if guess else ""
    return (f"--license {licence} is not a Hugging Face licence identifier; {hint}"
            "(https://huggingface.co/docs/hub/repositories-licenses; one not listed: --license other:<name>)")


def unlisted_licence_note(licence: str) -> str | None:
    """A note for an identifier the list does not hold ("eupl-1.2" may be newer than this copy; "llama4"
    too), with the listed one it is closest to: the Hub, not this copy, has the last word."""
    licence_id, name = hub_licence(licence)
    if name is not None or licence_id in HUB_LICENCES:
        return None
    guess = likely_meant(licence_id)
    hint = f" (did you mean {guess}?)" if guess else ""
    return (f"--license {licence} is not among the Hugging Face licence identifiers leakless knows{hint}; "
            f"if the Hub refuses the card, release again with --license other:{licence}")


def likely_meant(given: str) -> str | None:
    """The listed identifier closest to `given` once spelt as identifiers are ("CC BY 4.0" -> cc-by-4.0)."""
    spelt = re.sub(r"[\s_]+", "-", given.strip().lower())
    if spelt in HUB_LICENCES:
        return spelt
    close = difflib.get_close_matches(spelt, sorted(HUB_LICENCES), n=1, cutoff=0.6)
    return close[0] if close else None
