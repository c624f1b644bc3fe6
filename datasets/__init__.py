"""slim's datasets as TFRecord pipelines, and the converters that write them."""
