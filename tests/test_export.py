"""core.export: SavedModel signatures, TFLite and GraphDef agree with the Python model."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from slimvision.core import export
from slimvision.nets import checkpoints, nets_factory
from slimvision.preprocessing import preprocessing_factory

# Relative to max|logit|: float32 reordering noise only.
FLOAT_TOL = 1e-4


def _max_rel(a, b):
  return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


@pytest.fixture(scope='module')
def lenet(tmp_path_factory):
  """LeNet with a slim-style checkpoint, exported every way."""
  root = tmp_path_factory.mktemp('lenet')
  fn = nets_factory.get_network_fn('lenet', num_classes=10)
  prefix = checkpoints.save_slim_checkpoint(fn, str(root / 'ckpt' / 'model.ckpt'),
                                            global_step=5)
  config = export.ExportConfig(model_name='lenet', checkpoint_path=prefix, num_classes=10,
                               export_dir=str(root / 'saved_model'),
                               tflite_file=str(root / 'lenet.tflite'),
                               output_file=str(root / 'lenet.pb'))
  written = export.export(config)
  images = np.random.default_rng(1).uniform(-1, 1, (5, 28, 28, 1)).astype(np.float32)
  return {'fn': fn, 'prefix': prefix, 'root': root, 'written': written, 'images': images,
          'logits': fn(images)[0].numpy()}


def test_saved_model_matches_python(lenet):
  model = tf.saved_model.load(lenet['written']['saved_model'])
  assert set(model.signatures) == {'serving_default', 'serving_bytes'}
  out = model.signatures['serving_default'](images=tf.constant(lenet['images']))
  assert set(out) >= {'logits', 'probabilities'}
  assert _max_rel(out['logits'], lenet['logits']) < FLOAT_TOL
  np.testing.assert_allclose(out['probabilities'].numpy().sum(axis=1), 1.0, rtol=1e-5)
  np.testing.assert_array_equal(out['classes'], lenet['logits'].argmax(axis=1))


def test_tflite_matches_python(lenet):
  out = export.run_tflite(lenet['written']['tflite'], lenet['images'])
  assert _max_rel(out['logits'], lenet['logits']) < FLOAT_TOL
  np.testing.assert_array_equal(out['classes'], lenet['logits'].argmax(axis=1))


def _tensor_names(model):
  interpreter = tf.lite.Interpreter(model_content=bytes(model))
  return ([d['name'] for d in interpreter.get_input_details()],
          sorted(d['name'] for d in interpreter.get_output_details()))


def test_tflite_tensors_take_the_signature_keys_in_place_or_rebuilt(lenet):
  # The converter's names (serving_default_images:0, StatefulPartitionedCall_1:N)
  # become the signature's keys: written over in place, the model's size
  # unchanged (nothing copied), or by rebuilding the model, alike.
  converter = tf.lite.TFLiteConverter.from_saved_model(lenet['written']['saved_model'],
                                                       signature_keys=['serving_default'])
  raw = bytearray(converter.convert())
  want = (['images'], sorted(export.OUTPUT_KEYS))
  assert _tensor_names(raw) != want
  in_place = export._name_tflite_tensors(bytearray(raw))  # pylint: disable=protected-access
  rebuilt = export._rebuilt_with_names(bytearray(raw))  # pylint: disable=protected-access
  assert len(in_place) == len(raw)
  assert _tensor_names(in_place) == _tensor_names(rebuilt) == want
  for model in (in_place, rebuilt):
    interpreter = tf.lite.Interpreter(model_content=bytes(model))
    runner = interpreter.get_signature_runner('serving_default')
    out = runner(images=lenet['images'][:1])
    assert _max_rel(out['logits'], lenet['logits'][:1]) < FLOAT_TOL


def test_quantized_tflite_is_smaller_and_close(lenet, tmp_path):
  config = export.ExportConfig(model_name='lenet', checkpoint_path=lenet['prefix'],
                               num_classes=10, tflite_file=str(tmp_path / 'q.tflite'),
                               quantize=True)
  export.export(config)
  quantized = os.path.getsize(tmp_path / 'q.tflite')
  assert quantized < 0.4 * os.path.getsize(lenet['written']['tflite'])
  out = export.run_tflite(str(tmp_path / 'q.tflite'), lenet['images'])
  assert _max_rel(out['logits'], lenet['logits']) < 0.05  # int8 weights.


def test_frozen_graph_def_matches_python(lenet):
  tensors = lenet['written']['tensors']
  assert tensors['images'] == 'images:0' and tensors['logits'] == 'logits:0'
  graph_def = tf.compat.v1.GraphDef()
  with open(lenet['written']['graph_def'], 'rb') as f:
    graph_def.ParseFromString(f.read())
  assert not any(n.op in ('VarHandleOp', 'ReadVariableOp') for n in graph_def.node)
  wrapped = tf.compat.v1.wrap_function(
      lambda: tf.graph_util.import_graph_def(graph_def, name=''), [])
  run = wrapped.prune(feeds=['images:0'], fetches=['logits:0', 'probabilities:0'])
  logits, probabilities = run(tf.constant(lenet['images']))
  assert _max_rel(logits, lenet['logits']) < FLOAT_TOL
  np.testing.assert_allclose(probabilities.numpy().sum(axis=1), 1.0, rtol=1e-5)


def _png(array):
  return tf.io.encode_png(tf.constant(array)).numpy()


def test_serving_bytes_applies_eval_preprocessing(lenet):
  rng = np.random.default_rng(2)
  raw = [rng.integers(0, 256, (h, w, 1), dtype=np.uint8) for h, w in ((28, 28), (40, 33))]
  preprocess = preprocessing_factory.get_preprocessing('lenet', is_training=False)
  expected = lenet['fn'](tf.stack([preprocess(tf.constant(r), 28, 28) for r in raw]))[0]
  model = tf.saved_model.load(lenet['written']['saved_model'])
  out = model.signatures['serving_bytes'](image_bytes=tf.constant([_png(r) for r in raw]))
  assert _max_rel(out['logits'], expected) < FLOAT_TOL


def test_serving_bytes_inception_jpeg(tmp_path):
  """The inception eval path (central crop, resize, [-1, 1]) on encoded JPEGs."""
  kwargs = {'depth_multiplier': 0.1, 'create_aux_logits': False}
  fn = nets_factory.get_network_fn('inception_v3', num_classes=7, image_size=75, **kwargs)
  prefix = checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'model.ckpt'))
  export.export(export.ExportConfig(model_name='inception_v3', checkpoint_path=prefix,
                                    num_classes=8, labels_offset=1, image_size=75,
                                    export_dir=str(tmp_path / 'sm'), network_kwargs=kwargs))
  rng = np.random.default_rng(3)
  jpegs = [tf.io.encode_jpeg(tf.constant(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)))
           for h, w in ((90, 120), (64, 64), (100, 80))]
  preprocess = preprocessing_factory.get_preprocessing('inception_v3', is_training=False)
  images = tf.stack([preprocess(tf.io.decode_jpeg(j, channels=3), 75, 75) for j in jpegs])
  expected = fn(images)[0].numpy()
  model = tf.saved_model.load(str(tmp_path / 'sm'))
  out = model.signatures['serving_bytes'](image_bytes=tf.stack(jpegs))
  assert out['logits'].shape == (3, 7)
  assert _max_rel(out['logits'], expected) < FLOAT_TOL
  # classes are in the dataset's label space: labels_offset added back.
  np.testing.assert_array_equal(out['classes'], expected.argmax(axis=1) + 1)


def test_fixed_batch_size_and_unfrozen_graph(tmp_path):
  config = export.ExportConfig(model_name='lenet', num_classes=10, batch_size=4,
                               export_dir=str(tmp_path / 'sm'),
                               output_file=str(tmp_path / 'graph.pbtxt'))
  export.export(config)
  model = tf.saved_model.load(str(tmp_path / 'sm'))
  spec = model.signatures['serving_default'].structured_input_signature[1]['images']
  assert spec.shape.as_list() == [4, 28, 28, 1]
  with open(tmp_path / 'graph.pbtxt') as f:
    text = f.read()
  assert 'name: "images"' in text and 'ReadVariableOp' in text  # Structure only.


def test_nothing_to_export():
  with pytest.raises(ValueError, match='Nothing to export'):
    export.ExportConfig(model_name='lenet')
  with pytest.raises(ValueError, match='pass --tflite_file'):
    export.ExportConfig(model_name='lenet', export_dir='x', quantize=True)


def test_checkpoint_that_does_not_fit(lenet, tmp_path):
  config = export.ExportConfig(model_name='lenet', checkpoint_path=lenet['prefix'],
                               num_classes=12, export_dir=str(tmp_path / 'sm'))
  with pytest.raises(ValueError, match=r'does not fit model(.|\n)*LeNet/fc4/weights'):
    export.export(config)
  assert not os.path.exists(tmp_path / 'sm')


def test_num_classes_from_dataset_and_offset():
  config = export.ExportConfig(model_name='lenet', dataset_name='imagenet', labels_offset=1,
                               export_dir='unused')
  assert export.build_network(config).num_classes == 1000
  config = export.ExportConfig(model_name='lenet', dataset_name='mnist', export_dir='unused')
  assert export.build_network(config).num_classes == 10




# ----------------------------------------------------------------------------
# The scripts, and classifying with an exported model
# ----------------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *flags):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  return subprocess.run([sys.executable, script, *flags], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_export_script_writes_everything(lenet, tmp_path):
  proc = _run('export_inference_graph.py', '--model_name=lenet', '--dataset_name=mnist',
              f'--checkpoint_path={os.path.dirname(lenet["prefix"])}',
              f'--export_dir={tmp_path / "sm"}', f'--tflite_file={tmp_path / "m.tflite"}',
              f'--output_file={tmp_path / "g.pb"}', '--batch_size=5')
  assert proc.returncode == 0, proc.stderr
  assert 'graph tensors: images=images:0' in proc.stdout
  model = tf.saved_model.load(str(tmp_path / 'sm'))
  out = model.signatures['serving_default'](images=tf.constant(lenet['images']))
  assert _max_rel(out['logits'], lenet['logits']) < FLOAT_TOL
  tflite = export.run_tflite(str(tmp_path / 'm.tflite'), lenet['images'])
  assert _max_rel(tflite['logits'], lenet['logits']) < FLOAT_TOL
  assert os.path.getsize(tmp_path / 'g.pb') > 0


def test_export_script_error_is_one_clear_message(lenet, tmp_path):
  proc = _run('export_inference_graph.py', '--model_name=cifarnet',
              f'--checkpoint_path={lenet["prefix"]}', '--num_classes=10',
              f'--export_dir={tmp_path / "sm"}')
  assert proc.returncode == 1
  assert 'Traceback' not in proc.stderr
  assert 'export_inference_graph.py: error: Checkpoint' in proc.stderr
  assert 'another network' in proc.stderr and '--model_name=lenet' in proc.stderr
  assert not os.path.exists(tmp_path / 'sm')


@pytest.fixture(scope='module')
def imagenet_lenet(tmp_path_factory):
  """A 1001-class LeNet (ImageNet's label space, fast), its checkpoint, SavedModel, PNGs."""
  root = tmp_path_factory.mktemp('imagenet_lenet')
  fn = nets_factory.get_network_fn('lenet', num_classes=1001)
  prefix = checkpoints.save_slim_checkpoint(fn, str(root / 'model.ckpt'))
  export.export(export.ExportConfig(model_name='lenet', checkpoint_path=prefix,
                                    export_dir=str(root / 'sm')))
  rng = np.random.default_rng(4)
  paths = []
  for i, (h, w) in enumerate(((28, 28), (50, 36), (31, 64))):
    path = str(root / f'img{i}.png')
    tf.io.write_file(path, _png(rng.integers(0, 256, (h, w, 1), dtype=np.uint8)))
    paths.append(path)
  return {'prefix': prefix, 'saved_model': str(root / 'sm'), 'paths': paths}


def test_classify_with_saved_model_matches_checkpoint(imagenet_lenet):
  from slimvision.core import predict  # pylint: disable=g-import-not-at-top
  paths = imagenet_lenet['paths']
  from_model = predict.classify(paths, saved_model_dir=imagenet_lenet['saved_model'])
  from_checkpoint = predict.classify(paths, 'lenet', imagenet_lenet['prefix'],
                                     num_classes=1001)
  assert len(from_model) == 3 and all(len(top) == 5 for top in from_model)
  for ours, theirs in zip(from_model, from_checkpoint):
    assert [p.label for p in ours] == [p.label for p in theirs]
    assert [p.name for p in ours] == [p.name for p in theirs]
    np.testing.assert_allclose([p.probability for p in ours],
                               [p.probability for p in theirs], rtol=1e-4, atol=1e-7)


@pytest.mark.slow
def test_classify_script_with_saved_model(imagenet_lenet):
  from slimvision.datasets import imagenet  # pylint: disable=g-import-not-at-top
  proc = _run('classify_image.py', f'--saved_model_dir={imagenet_lenet["saved_model"]}',
              *imagenet_lenet['paths'])
  assert proc.returncode == 0, proc.stderr
  names = set(imagenet.create_readable_names_for_imagenet_labels().values())
  lines = [l for l in proc.stdout.splitlines() if l.startswith('  1.')]
  assert len(lines) == 3
  assert all(any(name in line for name in names) for line in lines)


def test_classify_saved_model_errors(imagenet_lenet, tmp_path):
  from slimvision.core import predict  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match=r"'.*nowhere' does not exist.*--export_dir"):
    predict.classify(imagenet_lenet['paths'], saved_model_dir=str(tmp_path / 'nowhere'))
  bad = tmp_path / 'bad.jpg'
  bad.write_bytes(b'not an image')
  with pytest.raises(ValueError, match=r'Cannot decode .*bad.jpg'):
    predict.classify([str(bad)], saved_model_dir=imagenet_lenet['saved_model'])


@pytest.mark.slow
def test_saved_model_keeps_the_class_names_classify_prints(tmp_path, imagenet_lenet):
  # A LeNet trained on a dataset whose labels.txt names its 3 classes: the
  # export keeps the names, and classifying with the SavedModel alone prints them.
  from slimvision.core import predict  # pylint: disable=g-import-not-at-top
  from slimvision.datasets import dataset_utils  # pylint: disable=g-import-not-at-top
  names = {0: 'heron', 1: 'stork', 2: 'crane'}
  data = tmp_path / 'birds'
  data.mkdir()
  dataset_utils.write_label_file(names, str(data))
  fn = nets_factory.get_network_fn('lenet', num_classes=3)
  prefix = checkpoints.save_slim_checkpoint(fn, str(tmp_path / 'model.ckpt'))
  proc = _run('export_inference_graph.py', '--model_name=lenet', '--num_classes=3',
              f'--dataset_dir={data}', f'--checkpoint_path={prefix}',
              f'--export_dir={tmp_path / "sm"}')
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert predict.saved_model_label_names(str(tmp_path / 'sm')) == names
  proc = _run('classify_image.py', f'--saved_model_dir={tmp_path / "sm"}',
              imagenet_lenet['paths'][0])
  assert proc.returncode == 0, proc.stderr[-3000:]
  tops = [l for l in proc.stdout.splitlines() if l.lstrip()[:2] in ('1.', '2.', '3.')]
  assert len(tops) == 3 and {l.split()[-1] for l in tops} == set(names.values()), proc.stdout


def test_names_that_do_not_fit_the_logits_are_not_kept(tmp_path):
  config = export.ExportConfig(model_name='lenet', dataset_name='flowers', num_classes=3,
                               export_dir=str(tmp_path / 'sm'))
  assert export.class_names(config, 3) is None  # flowers has 5 names.
  config = export.ExportConfig(model_name='vgg_16', dataset_name='imagenet', labels_offset=1,
                               export_dir=str(tmp_path / 'sm'))
  names = export.class_names(config, 1000)
  assert len(names) == 1001 and names[1] == 'tench, Tinca tinca'


def test_classify_saved_model_refuses_the_names_of_another_dataset(imagenet_lenet):
  from slimvision.core import predict  # pylint: disable=g-import-not-at-top
  digits = {i: str(i) for i in range(10)}
  with pytest.raises(ValueError, match=r'has 1001 classes.*names its own 1001 labels.*are 10: '
                                       r'they belong to another dataset.*Drop --dataset_name'):
    predict.classify(imagenet_lenet['paths'], saved_model_dir=imagenet_lenet['saved_model'],
                     labels_to_names=digits)
