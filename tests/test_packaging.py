"""`pip install .` gives a bertlab that works outside the checkout: every subpackage, the asset registry, and the
shipped checkpoints as package data (the notebooks' `make install` uses the checkout itself, through a .pth)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from bertlab import models

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_checkpoints_live_inside_the_package():
    assert models.SHIPPED == Path(models.__file__).resolve().with_name("checkpoints")
    assert (models.SHIPPED / "tiny-bert-bbc-quick" / "model.safetensors").is_file()


def test_a_built_wheel_carries_the_exercises_the_registry_and_every_shipped_checkpoint_file(tmp_path):
    src = tmp_path / "src"  # a copy: building writes build/ and *.egg-info next to the sources
    shutil.copytree(ROOT / "bertlab", src / "bertlab", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "--disable-pip-version-check", "-w", str(tmp_path), str(src)], check=True, cwd=tmp_path)
    wheel, = tmp_path.glob("bertlab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"bertlab/{p.relative_to(ROOT / 'bertlab').as_posix()}"
               for p in (ROOT / "bertlab" / "checkpoints").rglob("*") if p.is_file()}
    assert shipped and shipped <= names, sorted(shipped - names)  # hidden manifests and generator/ included
    assert {"bertlab/assets.json", "bertlab/exercises/__init__.py", "bertlab/exercises/attention.py"} <= names
