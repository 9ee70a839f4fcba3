"""Packaging for rlhf_imdb: every name, version and dependency is read from settings.ini (nbdev 2 layout)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

here = Path(__file__).parent
config = ConfigParser(delimiters=["="])
config.read(here / "settings.ini", encoding="utf-8")
cfg = config["DEFAULT"]

licenses = {"apache2": ("Apache Software License 2.0", "OSI Approved :: Apache Software License")}
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable", "6 - Mature", "7 - Inactive"]
py_versions = ["3.9", "3.10", "3.11", "3.12", "3.13"]
min_python = cfg["min_python"]
lic = licenses[cfg["license"]]

requirements = cfg.get("requirements", "").split()
dev_requirements = cfg.get("dev_requirements", "").split()
extras = {
    "dev": dev_requirements,
    "hub": ["datasets"],                                  # load_dataset("stanfordnlp/imdb") and hub models
    "reward": ["trl==1.12.0", "datasets"],                # trl's RewardTrainer for the pairwise reward model
    # the 2020 classifier route (~400 MB of dependencies). Its dependency seqeval 1.2.2 is an sdist: pip < 25.3 with
    # `wheel` installed builds it the legacy way, fetching setuptools_scm 10 without its `vcs_versioning` (fails);
    # pip >= 25.3 always builds the PEP 517 way. So: `python -m pip install -U pip` first (or pass `--use-pep517`).
    "simpletransformers": ["simpletransformers==0.70.8"],
    "wandb": ["wandb"],
    "tensorboard": ["tensorboard"],
}

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(here / "README.md").read_text(encoding="utf-8") if (here / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    url=cfg["git_url"],
    author=cfg["author"],
    author_email=cfg["author_email"],
    license=lic[0],
    keywords=cfg["keywords"],
    classifiers=[
        "Development Status :: " + statuses[int(cfg["status"])],
        "Intended Audience :: " + cfg["audience"].title(),
        "License :: " + lic[1],
        "Natural Language :: " + cfg["language"].title(),
    ] + ["Programming Language :: Python :: " + v for v in py_versions[py_versions.index(min_python):]],
    packages=setuptools.find_packages(include=[cfg["lib_path"], cfg["lib_path"] + ".*"]),
    include_package_data=True,
    install_requires=requirements,
    extras_require=extras,
    python_requires=">=" + min_python,
    zip_safe=False,
    entry_points={
        "console_scripts": cfg.get("console_scripts", "").split(),
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
)
