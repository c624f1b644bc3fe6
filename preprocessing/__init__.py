"""slim's image preprocessing (inception, vgg, cifarnet, lenet)."""
