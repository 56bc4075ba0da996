"""The transfer domain (ch11, pretrained Xception): group `transfer`."""
