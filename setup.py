"""Package discovery (the rest of the build configuration is in pyproject.toml).

Every package under ``spikernn/`` is found automatically, and the top-level folders
``bridges/`` and ``analysis/`` (and any subpackages they grow) are installed as
``spikernn.bridges`` and ``spikernn.analysis``. Nothing is listed by hand, so a new module or
subpackage cannot be left out of a regular install.
"""

from setuptools import find_packages, setup

#: Installed package name -> source folder, for the packages that live outside ``spikernn/``.
MAPPED_FOLDERS = {"spikernn.bridges": "bridges", "spikernn.analysis": "analysis"}


def discover_packages() -> tuple[list[str], dict[str, str]]:
    """All packages to install, and the ``package_dir`` mapping of the mapped folders."""
    packages = find_packages(include=["spikernn", "spikernn.*"])
    package_dir = {"spikernn": "spikernn"}
    for name, folder in MAPPED_FOLDERS.items():
        package_dir[name] = folder
        packages += [name] + [f"{name}.{sub}" for sub in find_packages(folder)]
    return packages, package_dir


PACKAGES, PACKAGE_DIR = discover_packages()
setup(packages=PACKAGES, package_dir=PACKAGE_DIR)
