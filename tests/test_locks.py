"""The locks: complete, hashed, in step with their inputs, and free of index hosts.

Unit tier (no network): a Pipfile or tooling.in change without `make lock`
fails here, naming the command.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tools import lock

ROOT = Path(__file__).resolve().parents[1]
# Spelled in pieces so that this file does not match itself.
INDEX_HOSTS = re.compile("|".join(["py" + r"pi\.org", "python" + "hosted", "registry" + r"\.npmjs", "npmjs" + r"\.org"]), re.I)


def test_requirements_lock_matches_the_pipfile():
    problems = lock.lock_problems(lock.PROJECT_LOCK, *lock.project_inputs())
    assert not problems, "\n".join(problems) + "\nrequirements.lock is stale: run `make lock` and commit it"


def test_tooling_lock_matches_tooling_in():
    problems = lock.lock_problems(lock.TOOLING_LOCK, *lock.tooling_inputs())
    assert not problems, "\n".join(problems) + "\ntooling.lock is stale: run `make lock` and commit it"


def test_audit_lock_matches_audit_in():
    problems = lock.lock_problems(lock.AUDIT_LOCK, *lock.audit_inputs())
    assert not problems, "\n".join(problems) + "\naudit.lock is stale: run `make lock` and commit it"


def test_an_audit_in_change_without_make_lock_is_caught_and_names_the_command(tmp_path, monkeypatch, capsys):
    changed = tmp_path / "audit.in"
    changed.write_text(lock.AUDIT_IN.read_text().replace("prowler==5.46.0", "prowler==5.47.0"))
    assert changed.read_text() != lock.AUDIT_IN.read_text()
    problems = lock.lock_problems(lock.AUDIT_LOCK, *lock.audit_inputs(changed))
    assert any("input digest" in p for p in problems)
    assert any("prowler==5.46.0, which prowler==5.47.0 does not allow" in p for p in problems), problems

    monkeypatch.setattr(lock, "AUDIT_IN", changed)
    assert lock.main(["--check"]) == 1
    assert "run `make lock`" in capsys.readouterr().err


def test_the_scanner_lock_is_apart_from_the_project_lock():
    """prowler and its cloud SDKs install into .audit/ only: none of them leaks into requirements.lock."""
    _, project = lock.read_lock(lock.PROJECT_LOCK)
    _, audit = lock.read_lock(lock.AUDIT_LOCK)
    assert "prowler" in audit and "prowler" not in project
    assert len(audit) >= 100, len(audit)


@pytest.mark.parametrize("path", [lock.PROJECT_LOCK, lock.TOOLING_LOCK, lock.AUDIT_LOCK], ids=lambda p: p.name)
def test_every_locked_package_is_pinned_with_sha256_hashes(path):
    _, pins = lock.read_lock(path)
    assert len(pins) >= (5 if path == lock.TOOLING_LOCK else 100)
    for name, pin in pins.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", pin.version), f"{name}=={pin.version}"
        assert pin.hashes, f"{path.name}: {name} has no hash"
    # Every requirement line is a pin: `name==version \` followed by hashes.
    text = path.read_text()
    entries = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert all(re.match(r"^[A-Za-z0-9._-]+==\S+ \\$", line) for line in entries), entries


def test_every_pipfile_package_is_in_the_lock_at_its_pinned_version():
    _, pins = lock.read_lock(lock.PROJECT_LOCK)
    sections = lock.pipfile_requirements()
    for line in sections["packages"] + sections["dev-packages"]:
        name, version = re.match(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^;\s]+)", line).groups()
        assert pins[lock.canonical(name)].version == version, line


def test_a_pipfile_change_without_make_lock_is_caught_and_names_the_command(tmp_path, monkeypatch, capsys):
    changed = tmp_path / "Pipfile"
    changed.write_text(lock.PIPFILE.read_text().replace('boto3 = "==1.35.49"', 'boto3 = "==1.35.50"'))
    assert changed.read_text() != lock.PIPFILE.read_text()
    problems = lock.lock_problems(lock.PROJECT_LOCK, *lock.project_inputs(changed))
    assert any("input digest" in p for p in problems)
    assert any("boto3==1.35.49, which boto3==1.35.50 does not allow" in p for p in problems), problems

    monkeypatch.setattr(lock, "PIPFILE", changed)
    assert lock.main(["--check"]) == 1
    assert "run `make lock`" in capsys.readouterr().err


def test_a_new_pipfile_package_without_make_lock_is_caught(tmp_path):
    changed = tmp_path / "Pipfile"
    changed.write_text(lock.PIPFILE.read_text().replace("[dev-packages]\n", '[dev-packages]\nrequests-mock = "==1.12.1"\n'))
    problems = lock.lock_problems(lock.PROJECT_LOCK, *lock.project_inputs(changed))
    assert "requirements.lock does not pin requests-mock==1.12.1" in problems


def test_comments_and_order_in_the_pipfile_do_not_make_the_lock_stale(tmp_path):
    text = lock.PIPFILE.read_text()
    changed = tmp_path / "Pipfile"
    # A new comment, and cdktf moved from the top of [packages] to its end.
    moved = text.replace('cdktf = "==0.21.0"\n', "").replace("[dev-packages]", 'cdktf = "==0.21.0"  # moved\n\n[dev-packages]')
    changed.write_text("# a new comment\n" + moved)
    assert changed.read_text() != text
    assert lock.lock_problems(lock.PROJECT_LOCK, *lock.project_inputs(changed)) == []


def test_a_pipfile_source_is_refused(tmp_path):
    changed = tmp_path / "Pipfile"
    changed.write_text('[[source]]\nurl = "${PIP_INDEX_URL}"\nname = "x"\nverify_ssl = true\n\n' + lock.PIPFILE.read_text())
    with pytest.raises(lock.LockError, match="machine's pip"):
        lock.project_inputs(changed)


def test_the_check_runs_on_the_bare_interpreter():
    """The Makefile runs `python3 -m tools.lock --check` before any venv exists: standard library only."""
    source = (ROOT / "tools" / "lock.py").read_text()
    imports = set(re.findall(r"^(?:from|import) ([a-z_]+)", source, re.M))
    assert imports <= {"__future__", "argparse", "hashlib", "json", "os", "re", "subprocess", "sys", "tempfile", "tomllib", "dataclasses", "pathlib"}, imports


def test_no_committed_file_names_a_package_index_host():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    hits = []
    for name in filter(None, files):
        path = ROOT / name
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if INDEX_HOSTS.search(line):
                hits.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not hits, "\n".join(hits)


def test_installs_are_hash_checked_and_use_the_locks():
    makefile = (ROOT / "Makefile").read_text()
    pip_installs = [line for line in makefile.splitlines() if re.search(r"\bpip\b.*\$\(PIP_LOCKED\)|pip install", line)]
    assert len(pip_installs) == 3, pip_installs
    assert "PIP_LOCKED := install --quiet --disable-pip-version-check --require-hashes" in makefile
    assert "-r tooling.lock" in makefile and "-r requirements.lock" in makefile and "-r audit.lock" in makefile
    assert "npm ci " in makefile
    for path in [ROOT / "Makefile", ROOT / ".ci" / "run", *sorted((ROOT / ".github").rglob("*.yml"))]:
        text = path.read_text()
        assert not re.search(r"\bnpm (install|i)\b", text), f"{path}: installs without package-lock.json (use npm ci)"
        assert "--skip-lock" not in text and "pipenv install" not in text, f"{path}: an unlocked pipenv install"
        for line in re.findall(r"pip install[^\n]*", text):
            assert "--require-hashes" in line, f"{path}: {line}"


def test_package_lock_pins_every_npm_package_with_sha512_and_no_registry_url():
    package = json.loads((ROOT / "package.json").read_text())
    locked = json.loads((ROOT / "package-lock.json").read_text())
    assert locked["lockfileVersion"] >= 2
    packages = locked["packages"]
    assert packages[""]["devDependencies"] == package["devDependencies"]
    assert packages["node_modules/cdktf-cli"]["version"] == package["devDependencies"]["cdktf-cli"]
    text = (ROOT / "package-lock.json").read_text()
    assert '"resolved"' not in text and not INDEX_HOSTS.search(text)
    for path, entry in packages.items():
        if not path:
            continue
        assert "resolved" not in entry, f"{path}: resolved {entry['resolved']}"
        if entry.get("inBundle"):
            # Shipped inside a parent's tarball, which carries the integrity.
            parent = path.rsplit("/node_modules/", 1)[0]
            while parent not in packages or packages[parent].get("inBundle"):
                parent = parent.rsplit("/node_modules/", 1)[0]
            assert packages[parent]["integrity"].startswith("sha512-"), path
        else:
            assert entry.get("integrity", "").startswith("sha512-"), f"{path}: no sha512 integrity"
