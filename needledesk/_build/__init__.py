"""What build.spec (PyInstaller) uses to make the installer bundle; not part of the program
and never imported by it."""
