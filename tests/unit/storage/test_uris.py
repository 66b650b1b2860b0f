"""URI parsing, joining and confinement: object names from outside never escape a root."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.errors import ConfigurationError, ForbiddenPathError
from worker.storage.uris import (
    FILE_SCHEME,
    GCS_SCHEME,
    ParsedUri,
    is_within,
    join_uri,
    parse_uri,
    relative_to,
    require_within,
)

GCS_ROOT = "gs://landing-bucket/incoming"
LOCAL_ROOT = "/srv/landing"

TRAVERSALS = [
    "..",
    "../secrets",
    "a/../../b",
    "a/..",
    "%2e%2e/secrets",
    "%2E%2E/secrets",
    "a/%2e%2e/%2e%2e/b",
    ".%2e/x",
    "name\x00.csv",
    "name%00.csv",
    "a\\..\\b",
    "..\\windows",
    "tab\tname",
    "new\nline",
]


def test_parse_gs_uri_splits_bucket_and_key() -> None:
    assert parse_uri("gs://bkt/a/b.csv") == ParsedUri(GCS_SCHEME, "bkt", "a/b.csv")
    assert parse_uri("gs://bkt") == ParsedUri(GCS_SCHEME, "bkt", "")
    assert str(parse_uri("gs://bkt/a/b.csv")) == "gs://bkt/a/b.csv"
    assert str(parse_uri("gs://bkt")) == "gs://bkt"


def test_parse_local_forms_give_absolute_paths(tmp_path: Path) -> None:
    assert parse_uri(f"file://{tmp_path}/x.csv") == ParsedUri(FILE_SCHEME, "", f"{tmp_path}/x.csv")
    assert parse_uri("file:///tmp/a%20b").key == "/tmp/a b"
    assert parse_uri("file://localhost/tmp/x").key == "/tmp/x"
    assert parse_uri("relative/dir").key == str(Path("relative/dir").absolute())


@pytest.mark.parametrize(
    "uri", ["", "gs://", "gs:///key", "s3://bucket/key", "file://otherhost/etc/passwd"]
)
def test_parse_refuses_unusable_uris(uri: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_uri(uri)


@pytest.mark.parametrize("name", TRAVERSALS)
@pytest.mark.parametrize("root", [GCS_ROOT, LOCAL_ROOT])
def test_join_refuses_traversal_attempts(root: str, name: str) -> None:
    with pytest.raises(ForbiddenPathError):
        join_uri(root, name)


@pytest.mark.parametrize("name", TRAVERSALS)
def test_parse_refuses_traversal_inside_uris(name: str) -> None:
    with pytest.raises(ForbiddenPathError):
        parse_uri(f"gs://bkt/{name}")
    with pytest.raises(ForbiddenPathError):
        parse_uri(f"/srv/{name}")


@pytest.mark.parametrize("name", ["/etc/passwd", "/"])
@pytest.mark.parametrize("root", [GCS_ROOT, LOCAL_ROOT])
def test_join_refuses_absolute_names(root: str, name: str) -> None:
    with pytest.raises(ForbiddenPathError, match="absolute"):
        join_uri(root, name)


def test_join_builds_uris_under_the_root() -> None:
    assert join_uri(GCS_ROOT, "2024/01/a.csv") == "gs://landing-bucket/incoming/2024/01/a.csv"
    assert join_uri("gs://bkt", "a", "b.csv") == "gs://bkt/a/b.csv"
    assert join_uri("gs://bkt/", "x") == "gs://bkt/x"
    assert join_uri(LOCAL_ROOT, "dt=2024-01-01", "part.parquet") == (
        "/srv/landing/dt=2024-01-01/part.parquet"
    )


@pytest.mark.parametrize(
    ("uri", "root", "expected"),
    [
        ("gs://b/data/x.csv", "gs://b/data", True),
        ("gs://b/data/x.csv", "gs://b/data/", True),
        ("gs://b/data", "gs://b/data", True),
        ("gs://b/anything", "gs://b", True),
        ("gs://b/database/x.csv", "gs://b/data", False),
        ("gs://other/data/x.csv", "gs://b/data", False),
        ("/srv/data/x.csv", "gs://b/data", False),
        ("/srv/data/x.csv", "/srv/data", True),
        ("/srv/database/x.csv", "/srv/data", False),
        ("/srv/data/./x.csv", "/srv/data", True),
    ],
)
def test_is_within(uri: str, root: str, expected: bool) -> None:
    assert is_within(uri, root) is expected


def test_require_within_names_what_was_refused() -> None:
    assert require_within("gs://b/in/x", "gs://b/in", what="input") == "gs://b/in/x"
    with pytest.raises(ForbiddenPathError, match="input is outside the allowed root gs://b/in"):
        require_within("gs://b/out/x", "gs://b/in", what="input")


def test_relative_to_strips_the_root() -> None:
    assert relative_to("gs://b/data/x/y.csv", "gs://b/data") == "x/y.csv"
    assert relative_to("gs://b/data/x/y.csv", "gs://b/data/") == "x/y.csv"
    assert relative_to("gs://b/x.csv", "gs://b") == "x.csv"
    assert relative_to("/srv/data/x/y.csv", "/srv/data") == "x/y.csv"
    with pytest.raises(ForbiddenPathError):
        relative_to("gs://b/elsewhere/x.csv", "gs://b/data")


# Names mixing path syntax, encodings and control characters with ordinary text.
_hostile_names = st.lists(
    st.one_of(
        st.sampled_from(["..", ".", "", "%2e%2e", "%2E.", "/", "\\", "\x00", "%00", "~", "%2f"]),
        st.text(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=6,
).map("/".join)


@given(name=_hostile_names)
def test_a_joined_gcs_uri_that_passes_the_checks_stays_within_the_root(name: str) -> None:
    try:
        joined = join_uri(GCS_ROOT, name)
    except ForbiddenPathError:
        return
    assert is_within(joined, GCS_ROOT)
    key = parse_uri(joined).key
    # Even a consumer that normalizes the key (as a filesystem would) stays inside.
    assert (posixpath.normpath(key) + "/").startswith("incoming/")


@given(name=_hostile_names)
def test_a_joined_local_path_that_passes_the_checks_stays_within_the_root(name: str) -> None:
    try:
        joined = join_uri(LOCAL_ROOT, name)
    except ForbiddenPathError:
        return
    assert is_within(joined, LOCAL_ROOT)
    assert os.path.commonpath([os.path.normpath(joined), LOCAL_ROOT]) == LOCAL_ROOT


def test_a_symlink_under_a_local_root_that_leads_outside_is_not_within(tmp_path: Path) -> None:
    """Confinement is by real path (``os.path.realpath``): a link inside the root that resolves
    outside it is refused like a ``..`` segment."""
    root, outside = tmp_path / "landing", tmp_path / "secrets"
    (root / "trips").mkdir(parents=True)
    outside.mkdir()
    (outside / "2024-01-01.csv").write_text("id\n1\n")
    (root / "trips" / "2024-01-01.csv").symlink_to(outside / "2024-01-01.csv")
    (root / "linked-dir").symlink_to(outside, target_is_directory=True)
    (root / "trips" / "2024-01-02.csv").write_text("id\n1\n")

    for escaping in (root / "trips" / "2024-01-01.csv", root / "linked-dir" / "2024-01-01.csv"):
        assert not is_within(str(escaping), str(root))
        with pytest.raises(ForbiddenPathError, match="outside the allowed root"):
            require_within(str(escaping), str(root), what="input")
        with pytest.raises(ForbiddenPathError):
            relative_to(str(escaping), str(root))
    assert relative_to(str(root / "trips" / "2024-01-02.csv"), str(root)) == "trips/2024-01-02.csv"


def test_a_symlink_that_stays_inside_the_root_is_within(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    (root / "real").mkdir(parents=True)
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    assert is_within(str(root / "alias" / "x.csv"), str(root))


@pytest.mark.parametrize(
    "uri",
    [
        "gs://bkt/" + "a/" * 512 + "x.csv",  # 1029 bytes: over Cloud Storage's 1024
        "gs://bkt/" + "é" * 513 + ".csv",  # 1030 bytes in UTF-8, though 517 characters
        "gs://bkt/trips/" + "n" * 256 + ".csv",  # a segment over NAME_MAX
        "/srv/landing/" + "n" * 256 + ".csv",
        "file:///srv/landing/" + "d/" * 2100 + "x.csv",  # over PATH_MAX
        "/srv/landing/" + "d/" * 2100 + "x.csv",
    ],
)
def test_over_long_names_are_forbidden_paths(uri: str) -> None:
    """Cloud Storage object names are 1-1024 bytes UTF-8
    (https://cloud.google.com/storage/docs/objects#naming); Linux file names are at most 255
    bytes and paths 4096 (``NAME_MAX``, ``PATH_MAX``): longer ones are refused up front, not
    left to fail as an unexpected OSError."""
    with pytest.raises(ForbiddenPathError, match="limit is"):
        parse_uri(uri)


def test_names_at_the_limits_are_accepted() -> None:
    assert parse_uri("gs://bkt/" + "a/" * 509 + "x.csv").key.endswith("x.csv")  # 1023 bytes
    assert parse_uri("/srv/" + "n" * 255).key.endswith("n")
