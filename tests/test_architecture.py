"""The architecture of DESIGN.md, checked: the import contracts of pyproject.toml hold, they break on
a new violation, they cover every package of palabre, and docs/architecture.md names every part."""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import grimp
import pytest
from importlinter import api as importlinter_api  # noqa: F401  (configures import-linter)
from importlinter.application import use_cases
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = ROOT / "src" / "palabre"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# Folders of the package that hold no Python code.
NOT_CODE = {"templates", "static", "locale", "__pycache__"}
CONTRACT_TYPES = {"layers": LayersContract, "forbidden": ForbiddenContract}


def user_options():
    return use_cases.read_user_options(str(PYPROJECT))


def contracts_by_id() -> dict[str, dict]:
    return {options["id"]: options for options in user_options().contracts_options}


def top_level_parts() -> set[str]:
    """Every module and package directly under palabre (an app, a helper module, an entry point)."""
    parts = set()
    for path in PACKAGE.iterdir():
        if path.is_dir() and path.name not in NOT_CODE and (path / "__init__.py").exists():
            parts.add(path.name)
        elif path.suffix == ".py" and path.name != "__init__.py":
            parts.add(path.stem)
    return parts


def app_packages() -> set[str]:
    return {
        path.name
        for path in PACKAGE.iterdir()
        if path.is_dir() and path.name not in NOT_CODE and (path / "__init__.py").exists()
    }


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("palabre", include_external_packages=True, cache_dir=None)


def check(contract_id: str, graph: grimp.ImportGraph) -> bool:
    """Whether one contract of pyproject.toml is kept on this graph."""
    options = user_options()
    contract_options = contracts_by_id()[contract_id]
    contract = CONTRACT_TYPES[contract_options["type"]](
        name=contract_options["name"],
        session_options=options.session_options,
        contract_options=contract_options,
    )
    return contract.check(graph, verbose=False).kept


def test_the_import_contracts_are_kept(capsys):
    """What `lint-imports` checks, in-process, so that pytest alone catches a violation."""
    kept = use_cases.lint_imports(str(PYPROJECT), cache_dir=None, no_logo=True, is_debug_mode=True)
    report = capsys.readouterr().out
    assert kept, report
    words = " ".join(report.split())  # the report wraps long lines
    for options in user_options().contracts_options:
        assert f"{options['name']} KEPT" in words


@pytest.mark.parametrize(
    ("contract_id", "importer", "imported"),
    [
        # a lower floor reaching up to a feature
        ("floors", "palabre.conversations.services", "palabre.inbox.services"),
        ("floors", "palabre.nlp.language", "palabre.orgs.models"),
        # two siblings of one floor talking directly instead of through a hook
        ("floors", "palabre.listening.services", "palabre.moderation.services"),
        # moderation reaching up to the drop-in protocols that stand on it
        ("floors", "palabre.moderation.services", "palabre.compat.widget.comments"),
        ("floors", "palabre.conversations.services", "palabre.compat.journal"),
        # an app importing the CLI through another module than the listed debts
        ("floors", "palabre.inbox.services", "palabre.cli"),
        # a second way in
        ("one-door", "palabre.publishing.services", "httpx"),
        ("one-door", "palabre.listening.services", "feedparser"),
        ("one-door", "palabre.inbox.tasks", "smtplib"),
        ("one-door", "palabre.orgs.views", "requests"),
        # a package added tomorrow is under the rule too
        ("one-door", "palabre.billing", "httpx"),
        # an app running the analysers itself
        ("one-pipeline", "palabre.compat.akismet.check", "palabre.conversations.tasks"),
        ("one-pipeline", "palabre.connectors.sync", "palabre.conversations.tasks"),
        # nlp stays pure
        ("pure-nlp", "palabre.nlp.language", "django"),
        # the decision engine stays a pure function
        ("pure-engine", "palabre.moderation.engine", "palabre.moderation.models"),
        ("pure-engine", "palabre.moderation.patterns", "django"),
        # file roles inside an app
        ("file-roles", "palabre.inbox.models", "palabre.inbox.services"),
        ("file-roles", "palabre.publishing.services", "palabre.publishing.views"),
        ("file-roles", "palabre.listening.views", "palabre.listening.api"),
        ("file-roles", "palabre.compat.akismet.views", "palabre.compat.akismet.urls"),
    ],
)
def test_a_new_violation_breaks_its_contract(graph, contract_id, importer, imported):
    assert check(contract_id, copy.deepcopy(graph))
    broken = copy.deepcopy(graph)
    if importer not in broken.modules:
        broken.add_module(importer)
    if imported not in broken.modules:
        broken.add_module(imported, is_squashed=not imported.startswith("palabre"))
    broken.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    assert not check(contract_id, broken)


def test_the_debts_are_exactly_the_listed_ones(graph):
    """An exception that the code no longer needs is removed from the list (import-linter also
    refuses an ignored import that matches nothing), and docs/architecture.md lists every one."""
    docs = ARCHITECTURE.read_text(encoding="utf-8")
    debts = []
    for options in contracts_by_id().values():
        for ignored in options.get("ignore_imports", []):
            assert graph.find_matching_direct_imports(import_expression=ignored), ignored
            if "*" not in ignored:
                debts.append(ignored)
                importer, imported = (part.strip() for part in ignored.split("->"))
                assert f"`{importer} -> {imported}`" in docs, f"docs/architecture.md does not list {ignored}"
    # Measured when the contracts were written (issue #15); the list only shrinks.
    assert len(debts) <= 12, debts


def test_every_part_of_palabre_is_on_a_floor():
    in_floors = {
        name.strip().strip("()").removeprefix("palabre.")
        for layer in contracts_by_id()["floors"]["layers"]
        for name in re.split(r"[|:]", layer)
    }
    assert top_level_parts() - in_floors == set(), "place each part of palabre on a floor of `floors`"


def test_every_app_with_models_has_its_file_roles_contracted():
    apps = {path.parent.name for path in PACKAGE.glob("*/models.py")}
    containers = {name.removeprefix("palabre.") for name in contracts_by_id()["file-roles"]["containers"]}
    assert apps - containers == set(), "add the app to the containers of the `file-roles` contract"


def test_no_raw_http_outside_connectors():
    """The standard library's HTTP clients, which a root-package contract cannot tell from
    urllib.parse: only connectors opens connections."""
    raw = {"urllib.request", "http.client", "ftplib", "telnetlib", "xmlrpc.client"}
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "connectors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found += [f"{path.relative_to(ROOT)}: {name}" for name in names if name in raw]
    assert found == []


STORING = {"ingest_item", "ingest_items", "analyse_items", "analyse_items_or_each"}


def storing_calls(path: Path) -> list[str]:
    """The pipeline's storing and analysing functions a module imports or calls by name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found += [alias.name for alias in node.names if alias.name in STORING]
        elif isinstance(node, ast.Attribute) and node.attr in STORING:
            found.append(node.attr)
    return found


def test_items_come_in_through_connectors_only():
    """One door: platforms' pulls and webhooks, listening's own channels and the site's endpoints
    (the drop-in protocols hand what they accepted to the site connector) all store items through
    `connectors`; only it and `conversations` (the pipeline, its ingest API) call the pipeline's
    storing and analysing functions. The demo loader plays the platforms: it stores what their
    connectors would have brought the demo's channels (it stands beside connectors, not above)."""
    door = {"connectors", "conversations", "demo"}
    found = {
        str(path.relative_to(PACKAGE)): calls
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in door and (calls := storing_calls(path))
    }
    assert found == {}


def test_a_second_door_would_be_seen(tmp_path):
    module = tmp_path / "comments.py"
    module.write_text(
        "from palabre.conversations.services import ingest_item\n"
        "def store(pipeline, site, batch):\n"
        "    pipeline.ingest_items(channel=site.channel, incoming=batch)\n",
        encoding="utf-8",
    )
    assert storing_calls(module) == ["ingest_item", "ingest_items"]


def test_the_architecture_docs_name_every_app_package():
    docs = ARCHITECTURE.read_text(encoding="utf-8")
    missing = sorted(app for app in app_packages() if f"`{app}/`" not in docs)
    assert missing == [], f"docs/architecture.md does not describe {missing}"
    for contract in contracts_by_id().values():
        assert contract["name"] in docs, (
            f"docs/architecture.md does not name the contract {contract['name']!r}"
        )


def test_the_drop_in_protocols_are_an_app_of_small_modules():
    """Akismet, Perspective and the widget live in `compat`, out of moderation, one concern a
    module, none over 600 lines."""
    compat = PACKAGE / "compat"
    assert not [
        path.name
        for path in (PACKAGE / "moderation").glob("*.py")
        if path.stem.startswith(("akismet", "perspective", "widget", "journal", "batching"))
    ]
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in compat.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def test_no_module_is_over_600_lines():
    """Issue #15: services by sub-domain, no module over 600 lines (migrations aside: they are
    history, written once)."""
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}
