"""Build hook: the wheel carries `resources/` (fonts, icons, licences) as `needledesk/resources`.

The repository keeps `resources/` at its top level (build.spec and the tools read it there);
an installed wheel finds it beside the package through `needledesk.paths.resource_path`.
Editable installs read the checkout's own folder, so nothing is copied for them.
Everything else about the package is declared in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"


class BuildWithResources(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "needledesk" / "resources"
        shutil.copytree(RESOURCES, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithResources})
