"""The PySide6 window and dialogs. The only package (with the entry point) that imports Qt."""
