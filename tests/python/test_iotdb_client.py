"""IoTDB's official Python client (apache-iotdb, unmodified) against a real duet-server.

Run by scripts/test.sh inside a venv that has `apache-iotdb`. Starts its own
node on free ports in a temporary directory, runs numbered checks, prints
'N passed, N failed' and exits non-zero on any failure.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

from iotdb.Session import Session
from iotdb.utils.IoTDBConstants import Compressor, TSDataType, TSEncoding
from iotdb.utils.Tablet import Tablet


def start_server(binary, data_dir, extra=(), rpc_port=0):
    proc = subprocess.Popen(
        [binary, "--data-dir", data_dir, "--rpc-address", "127.0.0.1", "--rpc-port", str(rpc_port), "--http-port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("READY "):
            fields = dict(kv.split("=", 1) for kv in line.split()[1:])
            return proc, int(fields["rpc"].rsplit(":", 1)[1])
        if proc.poll() is not None:
            raise RuntimeError("duet-server exited before it was ready")
    proc.kill()
    raise RuntimeError("duet-server not ready within 60 s")


def rows_of(session, sql):
    with session.execute_query_statement(sql) as ds:
        out = []
        while ds.has_next():
            rec = ds.next()
            out.append((rec.get_timestamp(), [f.get_object_value(f.get_data_type()) if f.get_data_type() is not None else None for f in rec.get_fields()]))
        return out


def t01_open_create_and_schema(s):
    s.execute_non_query_statement("create database root.py")
    s.create_time_series("root.py.d1.temp", TSDataType.DOUBLE, TSEncoding.GORILLA, Compressor.SNAPPY)
    s.create_multi_time_series(
        ["root.py.d1.count", "root.py.d1.ok"],
        [TSDataType.INT64, TSDataType.BOOLEAN],
        [TSEncoding.PLAIN, TSEncoding.RLE],
        [Compressor.LZ4, Compressor.LZ4],
    )
    assert s.check_time_series_exists("root.py.d1.temp")
    rows = rows_of(s, "show timeseries root.py.d1.*")
    assert len(rows) == 3, rows


def t02_insert_record_and_records(s):
    s.insert_record("root.py.d1", 1, ["temp", "count", "ok"], [TSDataType.DOUBLE, TSDataType.INT64, TSDataType.BOOLEAN], [21.5, 7, True])
    s.insert_records(
        ["root.py.d1", "root.py.d2"],
        [2, 2],
        [["temp"], ["note"]],
        [[TSDataType.DOUBLE], [TSDataType.TEXT]],
        [[22.5], ["hello"]],
    )
    rows = rows_of(s, "select temp, count, ok from root.py.d1")
    assert rows == [(1, [21.5, 7, True]), (2, [22.5, None, None])], rows
    assert rows_of(s, "select note from root.py.d2") == [(2, ["hello"])]


def t03_insert_tablet_with_nulls_and_paging(s):
    n = 12_000  # more than two fetch pages of 5 000
    ts = list(range(10_000, 10_000 + n))
    values = [[float(i), i if i % 3 else None] for i in range(n)]
    tablet = Tablet("root.py.d3", ["v", "i"], [TSDataType.DOUBLE, TSDataType.INT32], values, ts)
    s.insert_tablet(tablet)
    rows = rows_of(s, "select v, i from root.py.d3")
    assert len(rows) == n, len(rows)
    assert rows[0] == (10_000, [0.0, None]), rows[0]
    assert rows[4] == (10_004, [4.0, 4]), rows[4]
    assert rows[-1][0] == 10_000 + n - 1


def t04_dataframe(s):
    with s.execute_query_statement("select v from root.py.d3 where time < 10010") as ds:
        df = ds.todf()
    assert len(df) == 10, df
    assert list(df.columns) == ["Time", "root.py.d3.v"], list(df.columns)
    assert float(df["root.py.d3.v"].sum()) == 45.0


def t05_aggregates_and_non_query(s):
    s.execute_non_query_statement("delete from root.py.d3.v where time >= 10005")
    rows = rows_of(s, "select count(v) from root.py.d3")
    assert rows[0][1] == [5], rows


def t06_errors_raise(s):
    for sql, code in [("select from nowhere", "700"), ("insert into root.py.d1(time, ok) values (5, 'x')", "614")]:
        try:
            s.execute_non_query_statement(sql)
        except Exception as e:  # the client raises StatementExecutionException
            assert code in str(e), (sql, str(e))
        else:
            raise AssertionError(f"{sql} did not raise")


def t07_wrong_password(port):
    bad = Session("127.0.0.1", port, "root", "wrong")
    try:
        bad.open(False)
    except Exception as e:
        assert "801" in str(e) or "password" in str(e).lower(), str(e)
    else:
        raise AssertionError("a wrong password was accepted")


def t08_compact_protocol(port):
    s = Session("127.0.0.1", port, "root", "root")
    s.open(True)  # enable_rpc_compression=True -> TCompactProtocol
    try:
        assert rows_of(s, "select note from root.py.d2") == [(2, ["hello"])]
    finally:
        s.close()


def t09_dual_read(port, binary):
    """SET READ_MODE = DUAL through the unmodified client: a query on A also
    reads its peer B (the pipe's sink) and merges them."""
    data_b = tempfile.mkdtemp(prefix="duet-py-b-")
    proc_b, port_b = start_server(binary, data_b)
    a = Session("127.0.0.1", port, "root", "root")
    b = Session("127.0.0.1", port_b, "root", "root")
    try:
        a.open(False)
        b.open(False)
        a.execute_non_query_statement(
            "create pipe AB with source ('source.mode.double-living'='true') with sink "
            f"('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{port_b}')")
        a.execute_non_query_statement("stop pipe AB")
        b.execute_non_query_statement("insert into root.dual.d(time, v) values (1, 1.5)")
        a.execute_non_query_statement("insert into root.dual.d(time, v) values (2, 2.5)")
        assert rows_of(a, "select v from root.dual.d") == [(2, [2.5])]
        a.execute_non_query_statement("SET READ_MODE = DUAL")
        assert rows_of(a, "select v from root.dual.d") == [(1, [1.5]), (2, [2.5])]
        assert [r[1] for r in rows_of(a, "select count(v) from root.dual.d")] == [[2]]
        a.execute_non_query_statement("SET READ_MODE = SINGLE")
        assert rows_of(a, "select v from root.dual.d") == [(2, [2.5])]
    finally:
        a.close()
        b.close()
        proc_b.terminate()
        proc_b.wait(timeout=30)
        shutil.rmtree(data_b, ignore_errors=True)


def t11_client_failover(binary):
    """Session.init_from_node_urls given both nodes of a pair: when the node
    it writes to is killed, the client moves to the other one; every
    acknowledged write is on both nodes once the killed one returns."""
    dirs = [tempfile.mkdtemp(prefix="duet-py-fo-") for _ in range(2)]
    (pa, port_a), (pb, port_b) = start_server(binary, dirs[0]), start_server(binary, dirs[1])
    procs = [pa, pb]
    try:
        for src, dst, name in [(port_a, port_b, "AB"), (port_b, port_a, "BA")]:
            s = Session("127.0.0.1", src, "root", "root")
            s.open(False)
            s.execute_non_query_statement(
                f"create pipe {name} with source ('source.mode.double-living'='true') with sink "
                f"('sink'='iotdb-thrift-sink', 'sink.ip'='127.0.0.1', 'sink.port'='{dst}')")
            s.close()
        c = Session.init_from_node_urls([f"127.0.0.1:{port_a}", f"127.0.0.1:{port_b}"], "root", "root")
        c.open(False)
        acked, killed, rto, i = 0, None, None, 1
        deadline = time.time() + 60
        while acked < 600 and time.time() < deadline:
            if acked == 300 and killed is None:
                pa.kill()
                pa.wait()
                killed = time.time()
            try:
                c.insert_record("root.fo.d", i, ["v"], [TSDataType.INT64], [i])
            except Exception:
                continue  # the same point again, on whichever node answers
            if killed is not None and rto is None:
                rto = time.time() - killed
            acked, i = i, i + 1
        assert acked == 600, f"only {acked} writes acknowledged"
        print(f"     t11: RTO with the Python client's failover: {rto * 1000:.1f} ms")
        c.close()
        # A returns on its data; both nodes converge on 1..=600.
        pa, _ = start_server(binary, dirs[0], rpc_port=port_a)
        procs[0] = pa
        want = [(600, [600, float(sum(range(1, 601)))])]
        for port in (port_a, port_b):
            s = Session("127.0.0.1", port, "root", "root")
            s.open(False)
            got, until = None, time.time() + 60
            while time.time() < until:
                rows = rows_of(s, "select count(v), sum(v) from root.fo.d")
                got = [(r[1][0], [r[1][0], float(r[1][1])]) for r in rows]
                if got == want:
                    break
                time.sleep(0.1)
            s.close()
            assert got == want, (port, got)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def t10_use_ssl(_port, binary):
    """Session(use_ssl=True, ca_certs=...) against a node with tls.clients = "required"."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    work = tempfile.mkdtemp(prefix="duet-py-tls-")
    certs = os.path.join(work, "certs")
    subprocess.run(["bash", os.path.join(root, "sbin", "make-certs.sh"), certs, "n,localhost,127.0.0.1"],
                   check=True, capture_output=True)
    conf = os.path.join(work, "duet.toml")
    with open(conf, "w") as f:
        f.write("[tls]\ncert_file = %r\nkey_file = %r\nca_file = %r\nclients = \"required\"\n" % (
            os.path.join(certs, "n.crt"), os.path.join(certs, "n.key"), os.path.join(certs, "ca.crt")))
    proc, port = start_server(binary, os.path.join(work, "data"), ["--config", conf])
    try:
        s = Session("127.0.0.1", port, "root", "root", use_ssl=True, ca_certs=os.path.join(certs, "ca.crt"))
        s.open(False)
        s.insert_record("root.ssl.d", 1, ["v"], [TSDataType.DOUBLE], [1.5])
        assert rows_of(s, "select v from root.ssl.d") == [(1, [1.5])]
        s.close()
        plain = Session("127.0.0.1", port, "root", "root")
        try:
            plain.open(False)
        except Exception as e:
            assert "TLS only" in str(e), e
        else:
            raise AssertionError("a plain-text session was accepted with tls.clients = required")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/duet/target"))
    binary = os.environ.get("DUET_SERVER", os.path.join(target, "debug", "duet-server"))
    data = tempfile.mkdtemp(prefix="duet-py-")
    proc, port = start_server(binary, data)
    passed = failed = 0
    try:
        s = Session("127.0.0.1", port, "root", "root", fetch_size=5000)
        s.open(False)
        checks = [t01_open_create_and_schema, t02_insert_record_and_records, t03_insert_tablet_with_nulls_and_paging,
                  t04_dataframe, t05_aggregates_and_non_query, t06_errors_raise]
        for check in checks:
            try:
                check(s)
                passed += 1
                print(f"ok   {check.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {check.__name__}\n{traceback.format_exc()}")
        s.close()
        dual = lambda p: t09_dual_read(p, binary)
        dual.__name__ = "t09_dual_read"
        failover = lambda _p: t11_client_failover(binary)
        failover.__name__ = "t11_client_failover"
        ssl = lambda p: t10_use_ssl(p, binary)
        ssl.__name__ = "t10_use_ssl"
        for check in [t07_wrong_password, t08_compact_protocol, dual, ssl, failover]:
            try:
                check(port)
                passed += 1
                print(f"ok   {check.__name__}")
            except Exception:
                failed += 1
                print(f"FAIL {check.__name__}\n{traceback.format_exc()}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
    print(f"python-client: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
