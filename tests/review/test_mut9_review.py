"""mut9: a page shown again after a post (flagged, refused) says the image is unseen unless the annotator
said "seen" themselves: a script's "loaded" measured the old page, not the new one."""

from pipeline.review.forms import image_state_shown_again


def test_a_scripts_loaded_is_not_carried_to_the_page_shown_again():
    assert image_state_shown_again({"image": "loaded"}) == "unseen"
    assert image_state_shown_again({"image": "failed"}) == "unseen"
    assert image_state_shown_again({}) == "unseen"
    assert image_state_shown_again({"image": "seen"}) == "seen"
