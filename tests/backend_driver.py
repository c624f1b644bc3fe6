"""Runs `slimvision.create_model` through compile / fit / save on
the Keras backend of its process (KERAS_BACKEND), for tests/test_backends.py.

Usage: KERAS_BACKEND=jax python backend_driver.py '<JSON>' with the JSON fields
name, num_classes, pretrained, image_size, aux_logits, steps, out. Writes `out`
(.npz): `logits` at initialisation on synthetic images, `head/<slim name>` for
the weights of the classifier and auxiliary heads, `losses` of each fit epoch,
`after` the logits after fitting, and `reloaded` those of the saved and loaded
model; prints the backend.
"""

import json
import os
import sys

import checkout  # pylint: disable=unused-import  (the checkout as slimvision)

import keras  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position

import backend_outputs  # pylint: disable=wrong-import-position
import slimvision  # pylint: disable=wrong-import-position
import synthetic  # pylint: disable=wrong-import-position
from slimvision.nets import checkpoints  # pylint: disable=wrong-import-position


def _logits(model, images):
  return np.asarray(keras.ops.convert_to_numpy(backend_outputs.inference(model, images)))


def main():
  args = json.loads(sys.argv[1])
  model = slimvision.create_model(args['name'], num_classes=args.get('num_classes'),
                                  pretrained=args.get('pretrained', False),
                                  aux_logits=args.get('aux_logits', False),
                                  image_size=args.get('image_size'))
  net = model.network
  images = synthetic.synth_images(4, net.image_size, net.input_channels, seed=0)
  labels = np.arange(4) % net.num_classes
  out = {'logits': _logits(model, images)}
  heads = net.head_scopes()
  for name, var in checkpoints.slim_variables(net).items():
    if any(name.startswith(h + '/') for h in heads):
      out[f'head/{name}'] = np.asarray(keras.ops.convert_to_numpy(var))
  model.compile(keras.optimizers.SGD(0.01), loss=slimvision.ClassificationLoss(0.1),
                metrics=['sparse_categorical_accuracy'])
  history = model.fit(images, labels, batch_size=2, epochs=args.get('steps', 2) // 2 or 1,
                      verbose=0)
  out['losses'] = np.asarray(history.history['loss'], np.float64)
  out['after'] = _logits(model, images)
  path = os.path.join(os.path.dirname(args['out']), 'model.keras')
  model.save(path)
  out['reloaded'] = _logits(keras.models.load_model(path), images)
  np.savez(args['out'], **out)
  print(json.dumps({'backend': keras.backend.backend()}), flush=True)


if __name__ == '__main__':
  main()
