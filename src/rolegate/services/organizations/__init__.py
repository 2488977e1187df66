"""AWS Organizations operations; importing this package registers them all."""
