"""The PDFs: the client's one-page session summary and the multi-page course record.

Plain reportlab on domain dataclasses: nothing here imports Qt or SQL, except `build`, which
fetches the records from a repository. Importing this package does not import reportlab.
"""
