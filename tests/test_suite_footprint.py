"""The suite's own disk footprint stays bounded.

The registry-wide tests write full-size checkpoints and SavedModels (VGG-16's
checkpoint alone is over 500 MB); kept for every passing test, a run fills tens of
GB of the temporary disk and the last tests fail with "No space left on device".
"""


def test_a_passing_tests_tmp_path_is_removed_when_it_ends(request):
  assert request.config.getini('tmp_path_retention_policy') == 'failed'
