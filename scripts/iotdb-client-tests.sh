#!/usr/bin/env bash
# IoTDB's own Python client integration tests (apache-iotdb 2.0.11, the
# tree-model ones) against real duet-server nodes.
#
# Fetches apache-iotdb's source package with pip, checks it against the
# sha256 pinned below, and extracts its tests/ once into a cache outside the
# repo (their code never enters our tree). Their tests start a
# testcontainers IoTDB per test; our tests/python/iotdb_container.py takes
# the place of that file in the cached copy and starts a fresh duet-server
# instead. The client itself is the venv's installed apache-iotdb 2.0.11.
#
# Needs: duet-server at $DUET_SERVER_BIN, else $CARGO_TARGET_DIR/debug/duet-server
# (scripts/test.sh builds it). Extra arguments go to pytest (e.g. -x, -k).
# Prints pytest's summary (one line per failure) and exits non-zero when any
# test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

version=2.0.11
sdist=apache_iotdb-$version.tar.gz
# PyPI's digest of the sdist (https://pypi.org/pypi/apache-iotdb/json,
# releases["2.0.11"], packagetype sdist).
sdist_sha256=fe477423bf53b746399be75d2c40d008d3a8da11a8315eff9da95fe3b0807b4d
pandas_version=2.2.3
pytest_version=9.2.0

venv="${DUET_VENV:-$HOME/.cache/duet/venv}"
cache="$HOME/.cache/duet/iotdb-client-tests/$version"
src="$cache/src"
server="${DUET_SERVER_BIN:-$CARGO_TARGET_DIR/debug/duet-server}"

if [ ! -x "$server" ]; then
    echo "iotdb-client-tests: no duet-server at $server (cargo build -p duet-server, or set DUET_SERVER_BIN)" >&2
    exit 2
fi
DUET_SERVER_BIN="$(realpath "$server")"
export DUET_SERVER_BIN

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
have_client="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-iotdb"))' 2>/dev/null || true)"
[ "$have_client" = "$version" ] || "$venv/bin/pip" install -q "apache-iotdb==$version"
have_pytest="$("$venv/bin/python" -c 'import pytest; print(pytest.__version__)' 2>/dev/null || true)"
[ "$have_pytest" = "$pytest_version" ] || "$venv/bin/pip" install -q "pytest==$pytest_version"
# pandas 2.2: the client renders TIMESTAMP values through pd.Timestamp, and
# pandas 3 raises OutOfBoundsDatetime for the far timestamps their tests
# write (9223372036854775807 ms), where 2.2 gives a date. apache-iotdb
# asks only for pandas>=1.0, so pip would otherwise pick 3.x.
have_pandas="$("$venv/bin/python" -c 'import pandas; print(pandas.__version__)' 2>/dev/null || true)"
[ "$have_pandas" = "$pandas_version" ] || "$venv/bin/pip" install -q "pandas==$pandas_version"

# Their tests, extracted once; .complete is written last, so an interrupted
# extraction is redone.
if [ ! -f "$src/.complete" ]; then
    mkdir -p "$cache"
    if [ ! -f "$cache/$sdist" ]; then
        dl="$(mktemp -d "$cache/download.XXXXXX")"
        "$venv/bin/pip" download -q --no-binary :all: --no-deps -d "$dl" "apache-iotdb==$version"
        mv "$dl/$sdist" "$cache/$sdist"
        rm -rf "$dl"
    fi
    got="$(sha256sum "$cache/$sdist")"
    got="${got%% *}"
    if [ "$got" != "$sdist_sha256" ]; then
        echo "iotdb-client-tests: $cache/$sdist has sha256 $got, expected $sdist_sha256; removed" >&2
        rm -f "$cache/$sdist"
        exit 1
    fi
    tmp="$(mktemp -d "$cache/extract.XXXXXX")"
    tar -xzf "$cache/$sdist" -C "$tmp" --strip-components=1 "apache_iotdb-$version/tests"
    # Stops pytest looking above the cache for a configuration file.
    printf '[pytest]\n' >"$tmp/pytest.ini"
    rm -rf "$src"
    mv "$tmp" "$src"
    touch "$src/.complete"
fi
cp tests/python/iotdb_container.py "$src/tests/integration/iotdb_container.py"

# The tree-model tests (the table-model ones are out of scope: Duet is tree
# model only). Their test_fail() helpers count failures in a global and
# assert nothing: pytest would count each as a pass, so they are deselected.
it=tests/integration
tests=(
    "$it/test_session.py" "$it/test_session_pool.py" "$it/test_tablet.py"
    "$it/test_todf.py" "$it/test_dataframe.py" "$it/test_delete_data.py"
    "$it/test_aligned_timeseries.py" "$it/test_one_device.py"
    "$it/test_new_data_types.py" "$it/test_treemodel_insert.py"
    "$it/dbapi" "$it/sqlalchemy"
)
cd "$src"
echo "iotdb-client-tests: apache-iotdb $version tests in $src against $DUET_SERVER_BIN"
# python -m puts the cache first on sys.path, so `tests.integration` is this
# copy (with our container), not the one the apache-iotdb wheel installs.
status=0
"$venv/bin/python" -m pytest -p no:cacheprovider --rootdir "$src" -vv --tb=short -rfE \
    -k 'not test_fail' "${tests[@]}" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "iotdb-client-tests: FAILED (pytest exit $status); see the short test summary above" >&2
fi
exit "$status"
