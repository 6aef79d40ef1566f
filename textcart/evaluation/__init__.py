"""Offline evaluations of textcart's components on labelled data."""
