"""Views that turn a recorded run into text, images or tables."""
