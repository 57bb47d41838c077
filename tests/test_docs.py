"""The README and the manual in docs/ name only what exists: every repository path, module, entry point, link
and `flask` command they mention. Files move; this keeps the docs from pointing at where they used to be."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Made by running things, never committed (.gitignore): mentioned, but not in a checkout.
GENERATED = ("instance/", "bench/out/", "screenshots/", "node_modules/", ".venv/")
TOP_LEVEL = {p.name for p in ROOT.iterdir()} - {g.rstrip("/") for g in GENERATED} - {".git"}
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _code_words(text: str):
    for code in CODE.findall(text):
        for word in code.strip("`").split():
            yield word.strip("()[],;:'\"*")


def _repo_paths(text: str) -> set[str]:
    paths = set()
    for word in _code_words(text):
        if "/" not in word or any(c in word for c in "<>{}…|=@") or "://" in word or word.startswith("/"):
            continue
        word = word.removeprefix("./")
        if word.split("/")[0] in TOP_LEVEL and not word.startswith(GENERATED):
            paths.add(word)
    return paths


def _slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {_slug(m) for m in re.findall(r"^#+ (.+)$", text, re.M)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_repo_path_in_the_docs_exists(doc):
    missing = sorted(p for p in _repo_paths(doc.read_text()) if not list(ROOT.glob(p)))
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_in_the_docs_leads_somewhere(doc):
    broken = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        file, _, anchor = target.partition("#")
        where = (doc.parent / file).resolve() if file else doc
        if not where.exists() or not where.is_relative_to(ROOT):
            broken.append(target)
        elif anchor and where.suffix == ".md" and anchor not in _anchors(where):
            broken.append(target)
    assert not broken, f"{doc.name} links to what is not there: {broken}"


def test_modules_and_entry_points_in_the_docs_exist():
    text = "\n".join(doc.read_text() for doc in DOCS)
    wsgi = (ROOT / "wsgi.py").read_text()
    missing = [f"wsgi:{name}" for name in set(re.findall(r"wsgi:(\w+)", text)) if f'"{name}"' not in wsgi]
    for module in set(re.findall(r"(?:python:|python -m )([\w.]+)", text)):
        if not {module.split(".")[0], module.split(".")[0] + ".py"} & TOP_LEVEL:
            continue  # not ours: pytest, pip, venv
        base = ROOT.joinpath(*module.split("."))
        if not (base.with_suffix(".py").exists() or (base / "__init__.py").exists()):
            missing.append(module)
    assert not missing, f"the docs name modules or entry points that do not exist: {sorted(missing)}"


def test_flask_commands_in_the_docs_exist(app):
    text = "\n".join(doc.read_text() for doc in DOCS)
    named = set(re.findall(r"flask --app wsgi ([a-z][\w-]*)", text))
    ctx = app.cli.make_context("flask", [], resilient_parsing=True)
    unknown = sorted(name for name in named if app.cli.get_command(ctx, name) is None)
    assert named and not unknown, f"the docs name flask commands that do not exist: {unknown}"
