"""What the Inception v1-v4 families share: slim's `inception_utils.inception_arg_scope`."""

from .layers import ConvHParams

# slim's inception_arg_scope: weight decay 4e-5, batch norm (decay 0.9997,
# epsilon 0.001, no scale) after every conv, ReLU.
INCEPTION_HPARAMS = ConvHParams(weight_decay=0.00004, batch_norm_decay=0.9997,
                                batch_norm_epsilon=0.001, batch_norm_scale=False,
                                activation='relu')
