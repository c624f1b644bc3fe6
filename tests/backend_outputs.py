"""A net's slim variables, end_points and logits on a checkpoint, on the Keras
backend of its process, for tests/test_backends.py.

Usage: KERAS_BACKEND=jax python backend_outputs.py

One process serves every net of a test module (Keras and the backend are
imported once): it reads one JSON request per line on stdin, with the fields
name, num_classes, image_size (`build`), checkpoint, batch, images_seed
(`outputs`) and out, the .npz file to write: `variables` (JSON {slim name:
shape}), the parameter counts, `logits`, and `ep/<end_point>` for every
end_point. For each request it prints one line `REPLY <JSON>` on stdout:
{"backend": name} once `out` is written, or {"error": traceback}. The test
computes the same on TensorFlow in its own process (`outputs`) and compares.
"""

import gc
import json
import sys
import traceback

import checkout  # pylint: disable=unused-import  (the checkout as slimvision)

import keras  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position

import synthetic  # pylint: disable=wrong-import-position
from slimvision.nets import checkpoints, nets_factory  # pylint: disable=wrong-import-position

REPLY = 'REPLY '


def build(name: str, num_classes: int, image_size: int) -> nets_factory.NetworkFn:
  """`name` built for inference at `image_size`."""
  return nets_factory.get_network_fn(name, num_classes=num_classes, is_training=False,
                                     image_size=image_size)


def inference(model: keras.Model, images):
  """The model's outputs in inference: eagerly on TensorFlow; elsewhere in one
  compiled call (run op by op, JAX compiles each operation on its own)."""
  if keras.backend.backend() == 'tensorflow':
    return model(images, training=False)
  return model.predict_on_batch(images)


def outputs(fn: nets_factory.NetworkFn, checkpoint: str, batch: int, images_seed: int) -> dict:
  """{'variables': {slim name: shape}, 'num_parameters', 'num_trainable_parameters',
  'logits': [batch, classes], 'ep/<key>': array} of the net `fn` with
  `checkpoint` restored, on `batch` synthetic images (`synthetic.synth_images`)."""
  report = checkpoints.restore_checkpoint(fn, checkpoint)
  assert report.skipped_missing == [] and report.excluded == [], report
  images = synthetic.synth_images(batch, fn.image_size, fn.input_channels, seed=images_seed)
  end_points = inference(fn.model, images)
  out = {'variables': {n: list(s) for n, s in checkpoints.slim_variable_names(fn).items()},
         'num_parameters': fn.model.count_params(),
         'num_trainable_parameters': sum(int(np.prod(v.shape))
                                         for v in fn.model.trainable_weights),
         'logits': np.asarray(keras.ops.convert_to_numpy(end_points[fn.logits_key]),
                              np.float64)}
  for key, value in end_points.items():
    out[f'ep/{key}'] = np.asarray(keras.ops.convert_to_numpy(value), np.float64)
  return out


def _answer(args: dict) -> dict:
  fn = build(args['name'], args['num_classes'], args['image_size'])
  result = outputs(fn, args['checkpoint'], args['batch'], args['images_seed'])
  result['variables'] = json.dumps(result['variables'])
  np.savez(args['out'], **result)
  return {'backend': keras.backend.backend()}


def main():
  for line in sys.stdin:
    try:
      reply = _answer(json.loads(line))
    except Exception:  # pylint: disable=broad-except  (reported to the test)
      reply = {'error': traceback.format_exc()}
    keras.backend.clear_session(free_memory=True)
    gc.collect()
    print(REPLY + json.dumps(reply), flush=True)


if __name__ == '__main__':
  main()
