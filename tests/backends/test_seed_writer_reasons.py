"""A template sub-category with cores but no safety reason is one item's error, not a crash of
the batch (mutation round 3)."""

from pipeline.backends.template_seeds import TemplateSeedWriter
from pipeline.contracts import ItemError
from pipeline.records import Seed
from pipeline.taxonomy import load_elements


def test_a_sub_category_without_safety_reasons_is_an_item_error_and_the_rest_are_drafted():
    elements = load_elements()
    first = elements[0]
    other = next(e for e in elements if e.sub_category != first.sub_category)
    writer = TemplateSeedWriter()
    writer.templates[first.sub_category] = {**writer.templates[first.sub_category], "safety_reasons": []}
    bad, good = writer.write([Seed(category=e.category, sub_category=e.sub_category, element=e)
                              for e in (first, other)])
    assert isinstance(bad, ItemError) and "safety_reasons" in bad.error
    assert not isinstance(good, ItemError) and good.safety_reason
