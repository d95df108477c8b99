"""The installs side by side: size on disk and the first translation's time from process start, for the light
install (``pip install honyaku``: CTranslate2, no PyTorch), the light install with MeCab (``honyaku[ja]``) and the
full one (``honyaku[train,ja]``, PyTorch 2.13.0's CPU build), each a fresh virtualenv of this checkout's wheel.

    python bench/installs.py [--runs 5] [--keep DIR]

The time is ``honyaku translate TEXT`` from process start to exit, run ``--runs`` times after one unmeasured run
(the files then in the page cache, as for any command run twice); the first run after the install is given too.
Run it on an idle machine: it is a timing. pip fetches the dependencies from the package index or its cache.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_file import RESULTS, run_main, write_section

REPO = Path(__file__).resolve().parents[1]
WHEEL_SOURCES = ("pyproject.toml", "README.md", "src")
TORCH = "torch==2.13.0"  # pinned, and first: an unpinned torch would pull a multi-GB CUDA build
INSTALLS = {  # name → (extras, what pip installs before the wheel)
    "light": ("", []),
    "light + ja": ("[ja]", []),
    "full": ("[train,ja]", [TORCH]),
}
TEXTS = {"en-ja": ["--src", "en", "I am Tom."], "ja-en": ["--src", "ja", "私はトムです。"]}


def build_wheel(out_dir: Path) -> Path:
    """This checkout's wheel, built from a copy of its sources (setuptools' build/ would keep deleted files)."""
    source = out_dir / "source"
    source.mkdir(parents=True)
    for name in WHEEL_SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, source / name)
    pip(["wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", out_dir, source])
    (wheel,) = out_dir.glob("honyaku-*.whl")
    return wheel


def install(wheel: Path, venv: Path, extras: str = "", first: list[str] | None = None) -> Path:
    """A fresh virtualenv at ``venv`` (no pip of its own: the running one installs into it) holding the wheel with
    ``extras``, after ``first``; its bin directory."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    for requirements in ([first] if first else []) + [[f"{wheel}{extras}"]]:
        pip(["--python", venv / "bin" / "python", "install", "--quiet", *requirements])
    return venv / "bin"


def pip(arguments: list) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *map(str, arguments)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"pip {' '.join(map(str, arguments[:3]))} failed:\n{done.stderr[-2000:]}")


def size_mb(path: Path) -> float:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file() and not file.is_symlink()) / 1e6


def largest(venv: Path, count: int = 4) -> str:
    (site,) = venv.glob("lib/python*/site-packages")
    sizes = {}
    for entry in site.iterdir():  # a package with its .libs folder, as one
        name = entry.name.removesuffix(".libs").partition("-")[0]
        sizes[name] = sizes.get(name, 0.0) + (size_mb(entry) if entry.is_dir() else entry.stat().st_size / 1e6)
    top = sorted(sizes.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{name} {megabytes:.0f}" for name, megabytes in top)


def first_translation(bin_dir: Path, arguments: list[str], cache: Path) -> float | str:
    """Seconds from process start to exit of one translation, or why it did not translate."""
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "XDG_CACHE_HOME": str(cache), "HOME": str(cache)}
    started = time.perf_counter()
    done = subprocess.run([bin_dir / "honyaku", "translate", *arguments], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        return done.stderr.strip().removeprefix("honyaku: error: ").partition(",")[0]
    return elapsed


def timings(bin_dir: Path, arguments: list[str], cache: Path, runs: int) -> str:
    first = first_translation(bin_dir, arguments, cache)
    if isinstance(first, str):
        return first
    times = [first_translation(bin_dir, arguments, cache) for _ in range(runs)]
    return f"{first:.2f} / {statistics.median(times):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the first (median)")
    parser.add_argument("--keep", type=Path, help="build the virtualenvs here and keep them")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        wheel = build_wheel(root / "wheel")
        rows = []
        for name, (extras, first) in INSTALLS.items():
            venv = root / name.replace(" + ", "-")
            bin_dir = install(wheel, venv, extras, first)
            cache = root / f"cache-{venv.name}"
            cells = [timings(bin_dir, arguments, cache, args.runs) for arguments in TEXTS.values()]
            rows.append(
                f"| {name} (`honyaku{extras}`) | {size_mb(venv):,.0f} | {largest(venv)} | {' | '.join(cells)} |"
            )
            print(rows[-1], flush=True)
    header = [
        f"Fresh virtualenvs of this checkout's wheel (`python bench/installs.py --runs {args.runs}`), Python "
        f"{sys.version.split()[0]}: size on disk of the whole virtualenv (no pip inside: the running one installed "
        "it), and `honyaku translate TEXT` from process start to exit, in seconds: the first run after the install "
        f"/ the median of {args.runs} more. The wheel holds the bundled models with their CTranslate2 conversions.",
        "",
        '| install | MB on disk | largest packages (MB) | en→ja "I am Tom." (s) | ja→en 「私はトムです。」 (s) |',
        "|---|---:|---|---:|---:|",
    ]
    write_section(args.results, "installs", header, rows, keep_rows=False)


if __name__ == "__main__":
    run_main(main, "bench/installs.py")
