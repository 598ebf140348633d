"""constructs_lib/container_paths.py: the writable paths of a read-only container, shared by the props and the config."""

from __future__ import annotations

import pytest

from constructs_lib.container_paths import DEFAULT_WRITABLE_PATHS, volume_name, writable_path_problems


def test_default_is_tmp_alone():
    assert DEFAULT_WRITABLE_PATHS == ("/tmp",)
    assert writable_path_problems(DEFAULT_WRITABLE_PATHS) == []
    assert writable_path_problems(()) == []


@pytest.mark.parametrize(("path", "name"), [("/tmp", "writable-tmp"), ("/var/cache/app", "writable-var-cache-app"), ("/home/app/.cache", "writable-home-app-_cache")])
def test_volume_name_follows_the_path(path, name):
    assert volume_name(path) == name


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["/"], "must not hold '/': that would make the whole root filesystem writable again"),
        (["tmp"], "must hold absolute paths of '/'-separated segments of letters, digits, '.', '_' and '-' (no '..', '//' or trailing '/', at most 255 characters), but 'tmp' was provided"),
        (["/tmp/"], "but '/tmp/' was provided"),
        (["/a//b"], "but '/a//b' was provided"),
        (["/a/../etc"], "but '/a/../etc' was provided"),
        (["/" + "a" * 255], "at most 255 characters"),
        (["/tmp", "/tmp"], "must not repeat a path, but /tmp appears more than once"),
        (["/var", "/var/cache"], "must not hold a path inside another (it is writable already), but /var/cache is inside /var"),
        (["/a-b", "/a/b"], "must give each path its own volume name, but /a-b and /a/b both make 'writable-a-b'"),
        ([f"/p{index}" for index in range(21)], "must hold at most 20 paths, but 21 were provided"),
    ],
)
def test_problems_name_what_is_wrong(paths, message):
    assert any(message in problem for problem in writable_path_problems(paths)), writable_path_problems(paths)


def test_every_problem_is_reported_together():
    assert len(writable_path_problems(["/", "tmp", "/x", "/x"])) == 3
