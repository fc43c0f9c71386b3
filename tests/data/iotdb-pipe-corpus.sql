-- IoTDB pipe statement corpus for Duet (tree model).
--
-- Each entry: a '-- source:' line (page URL and/or apache/iotdb-docs path with the stored
-- revision's commit prefix), an optional '-- meaning:' line, then the statement exactly as the
-- page prints it (comments, indentation, trailing commas, missing or extra brackets, CLI
-- prompt removed), then a line holding only ';' (the docs never end pipe statements with ';'; we
-- put it on its own line because many statements end inside a '--' comment), then a blank line.
--
-- Conventions a harness needs:
--   * 'TEMPLATE' in the source line: the statement contains doc placeholders such as <PipeId>,
--     [IF NOT EXISTS] or [<parameter> = <value>,]; it is a syntax sketch, not runnable SQL.
--   * 'QUIRK' in the meaning line: the doc text is not valid as written in real IoTDB (unclosed
--     or extra ')', missing comma hidden by a '--' comment, bad value, trailing '.').
--     Trailing commas inside a clause are NOT quirks: IoTDBSqlParser.g4 writes every attribute
--     list as (pair COMMA)* pair? , so 'a'='b', ) is legal.
--   * Keys and values are always single-quoted string literals in the grammar; '=' only.
--   * The last group (IoTDBPipeAlterIT) is taken from apache/iotdb integration tests, not from a
--     doc page, because no stored doc revision carries an ALTER PIPE example; '%s' there is a Java
--     String.format placeholder for ip:port.
--   * '-- duet: ok' or '-- duet: error: <words>': what Duet does with the statement, judged against
--     the meaning line; tests/tests/node/t56_pipe_corpus.rs runs every entry in order on one node
--     (a CREATE drops a pipe of its name first; an ALTER/START/STOP/DROP of a pipe that is not
--     there creates it with a do-nothing sink first) and fails on any difference.
-- Facts behind the meaning lines: docs/research/iotdb-pipe-keys.md and
-- docs/research/iotdb-pipe-processors.md.

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Full data synchronisation"
-- meaning: full sync A->B: default source (iotdb-source, inclusion=data.insert, history+realtime), no processor, iotdb-thrift-sink to 127.0.0.1:6668. QUIRK: the doc omits the closing ')' of WITH SINK; the last line ends in a trailing comma followed by a '--' comment.
-- duet: error: expected a quoted key such as 'sink.ip', found end of input
create pipe A2B
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6668',  -- The URL of the data service port of the DataNode node on the target IoTDB
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Partial data synchronization"
-- meaning: sync root.vehicle.** points with event time in [2023-08-23T08:00Z, 2023-10-23T08:00Z] (both inclusive) via the async thrift sink; realtime.mode=stream. QUIRK: no comma after 'realtime.mode' = 'stream' (the '--' comment hides where it would be), so as written this is a syntax error in IoTDB; the time strings use '.' as date separator, as every IoTDB pipe doc example does (parser: DateTimeUtils.convertTimestampOrDatetimeStrToLongWithDefaultZone; accepted formats not re-verified here); trailing comma before ')' in the sink.
-- duet: error: expected `,` or `)` to close `WITH SOURCE (`, found `'path'`
create pipe A2B
WITH SOURCE (
  'source'= 'iotdb-source',
  'realtime.mode' = 'stream' -- The extraction mode for newly inserted data (after pipe creation)
  'path' = 'root.vehicle.**',  -- Scope of Data Synchronization
  'start-time' = '2023.08.23T08:00:00+00:00',  -- The start event time for synchronizing all data, including start-time
  'end-time' = '2023.10.23T08:00:00+00:00'  -- The end event time for synchronizing all data, including end-time
) 
with SINK (
  'sink'='iotdb-thrift-async-sink',
  'node-urls' = '127.0.0.1:6668', -- The URL of the data service port of the DataNode node on the target IoTDB
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Edge-cloud data transfer", on B
-- meaning: edge B -> cloud A: inclusion=all (data.insert, data.delete, schema.*, auth.*), limited to path root.db.** (path pattern, not prefix). QUIRK: trailing commas before ')' and an extra unmatched ')' at the end.
-- duet: error: expected `;` or end of statement, found `)`
create pipe BA
with source (
   'inclusion'='all',   -- Indicates synchronization of full data, schema , and auth
   'path'='root.db.**', -- Limit the range
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6668', -- The URL of the data service port of the DataNode node on the target IoTDB
)
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Edge-cloud data transfer", on C
-- meaning: edge C -> cloud A, same as BA. QUIRK: WITH SOURCE is never closed (no ')' before 'with sink'), trailing commas, and an extra ')' at the end: the brackets balance overall but not per clause.
-- duet: error: expected a quoted key such as 'sink.ip', found `with`
create pipe CA
with source (
   'inclusion'='all',  -- Indicates synchronization of full data, schema , and auth
   'path'='root.db.**', -- Limit the range
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6668', -- The URL of the data service port of the DataNode node on the target IoTDB
)
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Edge-cloud data transfer", on D
-- meaning: edge D -> cloud A, same as BA. QUIRK: trailing commas and an extra unmatched ')' at the end.
-- duet: error: expected `;` or end of statement, found `)`
create pipe DA
with source (
   'inclusion'='all',  -- Indicates synchronization of full data, schema , and auth
   'path'='root.db.**', -- Limit the range
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6668', -- The URL of the data service port of the DataNode node on the target IoTDB
)
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Cascading data transfer", on A
-- meaning: A -> B with all defaults (data.insert, history+realtime, forwarding-pipe-requests=true). QUIRK: trailing comma and an extra unmatched ')'.
-- duet: error: expected `;` or end of statement, found `)`
create pipe AB
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6668', -- The URL of the data service port of the DataNode node on the target IoTDB
)
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Cascading data transfer", on B
-- meaning: B -> C forwarding data that B received from other pipes (forwarding-pipe-requests=true, which is already the default). QUIRK: trailing comma and an extra unmatched ')'.
-- duet: error: expected `;` or end of statement, found `)`
create pipe BC
with source (
  'forwarding-pipe-requests' = 'true'   -- Whether to forward data written by other Pipes
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6669', -- The URL of the data service port of the DataNode node on the target IoTDB
)
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Compression Synchronization (V1.3.3+)"
-- meaning: sink plugin defaults to iotdb-thrift-sink; payload compressed with snappy then lz4 (chain applied in the listed order); no 'sink' key given.
-- duet: ok
create pipe A2B 
with sink (
 'node-urls' = '127.0.0.1:6668', -- The URL of the data service port of the DataNode node on the target IoTDB
 'compressor' = 'snappy,lz4'  -- Compression algorithms
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Encrypted Synchronization (V1.3.1+)"
-- meaning: SSL thrift sink (sync client) to 127.0.0.1:6667 using trust store pki/trusted (relative to IoTDB home) with password root.
-- duet: error: sink.ssl.trust-store-path pki/trusted: cannot read certificates
create pipe A2B
with sink (
  'sink'='iotdb-thrift-ssl-sink',
  'node-urls'='127.0.0.1:6667',  -- The URL of the data service port of the DataNode node on the target IoTDB
  'ssl.trust-store-path'='pki/trusted',  -- The trust store certificate path required to connect to the target DataNode
  'ssl.trust-store-pwd'='root' -- The trust store certificate password required to connect to the target DataNode
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "View Task" example (V1.3.6+), CLI prompt 'IoTDB> ' stripped
-- meaning: since V1.3.6 a full-data pipe (history+realtime) is split into alldatapipe_history (realtime.enable=false, inclusion=data.insert, inclusion.exclusion='') and alldatapipe_realtime (history.enable=false, keeps inclusion=all); the name alldatapipe itself no longer exists. Sink key defaults to iotdb-thrift-sink.
-- duet: ok
create pipe alldatapipe with source('inclusion'='all','exclusion'='auth') with sink('node-urls'='127.0.0.1:6668')
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "View Task" example (V1.3.6+), CLI prompt stripped
-- meaning: shows the history half of the split pipe; its PipeSource column reads {exclusion=auth, history.enable=true, inclusion=data.insert, inclusion.exclusion=, realtime.enable=false}.
-- duet: ok
show pipe alldatapipe_history
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "View Task" example (V1.3.6+), CLI prompt stripped
-- meaning: shows the realtime half; PipeSource reads {exclusion=auth, history.enable=false, inclusion=all, realtime.enable=true}.
-- duet: ok
show pipe alldatapipe_realtime
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "View Task"
-- meaning: lists all pipes with columns ID, CreationTime, State, PipeSource, PipeProcessor, PipeSink, ExceptionMessage, RemainingEventCount, EstimatedRemainingSeconds.
-- duet: ok
SHOW PIPES
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_apache.md @4c7c13ac), "Synchronization Plugins"
-- meaning: lists plugins (PluginName, PluginType, ClassName, PluginJar); built-ins are shown upper-case with PluginType Builtin.
-- duet: error: found `PIPEPLUGINS`
SHOW PIPEPLUGINS
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Data-Sync_timecho.md (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_timecho.md @379527ec), "Full data synchronisation"
-- meaning: QUIRK: the doc sets 'sink.ip' to the plugin name 'iotdb-thrift-sink' (a doc bug: an ip is expected) and puts a blank line inside the clause; as written IoTDB would try to connect to host "iotdb-thrift-sink":6668.
-- duet: ok
create pipe A2B
with sink (
  'sink'='iotdb-thrift-sink', 'sink.ip'='iotdb-thrift-sink',
  
  'sink.port'='6668'
)
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_timecho.md @379527ec, "Synchronising historical data"
-- meaning: history only (realtime disabled) in [2023-08-23T08:00Z, 2023-10-23T08:00Z] via legacy keys source.history.start-time/end-time; realtime.mode=hybrid is moot with realtime off; sink batching disabled. 'xxxx' is a placeholder host.
-- duet: ok
create pipe A2B
WITH SOURCE (
'source'= 'iotdb-source',
'source.realtime.enable' = 'false', 
'source.realtime.mode'='hybrid',
'source.history.start-time' = '2023.08.23T08:00:00+00:00',
'source.history.end-time' = '2023.10.23T08:00:00+00:00') 
with SINK (
'sink'='iotdb-thrift-async-sink',
'sink.node-urls'='xxxx:6668',
'sink.batch.enable'='false')
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_timecho.md @379527ec, "Bidirectional data transfer", on A
-- meaning: old dual-active recipe: realtime only, do not forward events that arrived via another pipe (loop prevention). QUIRK: WITH SOURCE is never closed (trailing comma, no ')').
-- duet: error: expected a quoted key such as 'sink.ip', found `with`
create pipe AB
with source (
  'source.history.enable' = 'false',
  'source.forwarding-pipe-requests' = 'false',
with sink (
  'sink'='iotdb-thrift-sink',
  'sink.ip'='127.0.0.1',
  'sink.port'='6668'
)
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_timecho.md @379527ec, "Bidirectional data transfer", on B
-- meaning: mirror of AB towards port 6667. QUIRK: WITH SOURCE never closed.
-- duet: error: expected a quoted key such as 'sink.ip', found `with`
create pipe BA
with source (
  'source.history.enable' = 'false',
  'source.forwarding-pipe-requests' = 'false',
with sink (
  'sink'='iotdb-thrift-sink',
  'sink.ip'='127.0.0.1',
  'sink.port'='6667'
)
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_timecho.md @379527ec, "Cascading Data Transfer", on B
-- meaning: B -> C forwarding pipe-written data. QUIRK: WITH SOURCE never closed.
-- duet: error: expected a quoted key such as 'sink.ip', found `with`
create pipe BC
with source (
  'source.forwarding-pipe-requests' = 'true',
with sink (
  'sink'='iotdb-thrift-sink',
  'sink.ip'='127.0.0.1',
  'sink.port'='6669'
)
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_timecho.md @379527ec, "Transmission of data across a netgate"
-- meaning: air-gap sink (one-way gateway, receiver port 9780 by default; receiver must enable pipe_air_gap_receiver_enabled). Enterprise/TimechoDB doc.
-- duet: error: sink parameter 'sink' = 'iotdb-air-gap-sink': expected one of
create pipe A2B
with sink (
  'sink'='iotdb-air-gap-sink',
  'sink.ip'='10.53.53.53',
  'sink.port'='9780'
)
;

-- source: https://iotdb.apache.org/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @037d9018), "3.3 Bidirectional data transfer", on A
-- meaning: dual-active A->B: all data+schema+auth, but events that were themselves written by a pipe (i.e. received from B) are not forwarded, which breaks the loop. History is included (default), so pre-existing data is also sent.
-- duet: ok
create pipe AB
with source (
  'inclusion'='all',  -- Indicates synchronization of full data, schema , and auth
  'forwarding-pipe-requests' = 'false'   -- Do not forward data written by other Pipes
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6668', -- The URL of the data service port of the DataNode node on the target IoTDB
)
;

-- source: https://iotdb.apache.org/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @037d9018), "3.3 Bidirectional data transfer", on B
-- meaning: mirror of AB, B->A on port 6667. QUIRK: trailing comma before ')' in the sink clause.
-- duet: ok
create pipe BA
with source (
  'inclusion'='all',   -- Indicates synchronization of full data, schema , and auth
  'forwarding-pipe-requests' = 'false'   -- Do not forward data written by other Pipes
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6667', -- The URL of the data service port of the DataNode node on the target IoTDB
)
;

-- source: https://iotdb.apache.org/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @037d9018), "3.6 Cross-gate data transfer"
-- meaning: air-gap sink to the gateway at 10.53.53.53:9780 (TimechoDB only; handshake timeout default 5000 ms). QUIRK: WITH SINK is never closed (no ')'), last line is a trailing comma plus '--' comment.
-- duet: error: expected a quoted key such as 'sink.ip', found end of input
create pipe A2B
with sink (
  'sink'='iotdb-air-gap-sink',
  'node-urls' = '10.53.53.53:9780', -- The URL of the data service port of the DataNode node on the target IoTDB
;

-- source: https://iotdb.apache.org/UserGuide/latest/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/Master/Tree/User-Manual/Data-Sync_apache.md @094bb44b), "Partial data synchronization" (this revision has no 'path' line)
-- meaning: all series (path defaults to root.**), event time in [2023-08-23T08:00Z, 2023-10-23T08:00Z] inclusive, realtime.mode=stream. QUIRK: no comma after 'stream' (hidden by the '--' comment), so the key list is malformed as written; trailing comma in the sink.
-- duet: error: expected `,` or `)` to close `WITH SOURCE (`, found `'start-time'`
create pipe A2B
WITH SOURCE (
  'source'= 'iotdb-source',
  'realtime.mode' = 'stream' -- The extraction mode for newly inserted data (after pipe creation)
  'start-time' = '2023.08.23T08:00:00+00:00',  -- The start event time for synchronizing all data, including start-time
  'end-time' = '2023.10.23T08:00:00+00:00'  -- The end event time for synchronizing all data, including end-time
) 
with SINK (
  'sink'='iotdb-thrift-async-sink',
  'node-urls' = '127.0.0.1:6668', -- The URL of the data service port of the DataNode node on the target IoTDB
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Streaming_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Streaming_apache.md @2239ee05), "Create Stream Processing Task". TEMPLATE: <PipeId> is a placeholder in the doc.
-- meaning: legacy 'source.'-prefixed keys: prefix pattern root.iotdb (string-prefix match), history in [2011-12-03T10:15:30+01:00, 2022-12-03T10:15:30+01:00] plus all realtime data, explicit do-nothing-processor, thrift sink via sink.ip/sink.port. QUIRK: trailing commas before each ')'; comment lines between key/value pairs.
-- duet: error: expected a pipe name, found `<`
CREATE PIPE <PipeId> -- PipeId is the name that uniquely identifies the sync task
WITH SOURCE (
  -- Default IoTDB Data Extraction Plugin
  'source'                    = 'iotdb-source',
  -- Path prefix, only data that can match the path prefix will be extracted for subsequent processing and delivery
  'source.pattern'            = 'root.iotdb',
  -- Whether to extract historical data
  'source.history.enable'     = 'true',
  -- Describes the time range of the historical data being extracted, indicating the earliest possible time
  'source.history.start-time' = '2011.12.03T10:15:30+01:00',
  -- Describes the time range of the extracted historical data, indicating the latest time
  'source.history.end-time'   = '2022.12.03T10:15:30+01:00',
  -- Whether to extract realtime data
  'source.realtime.enable'    = 'true',
)
WITH PROCESSOR (
  -- Default data processing plugin, means no processing
  'processor'                    = 'do-nothing-processor',
)
WITH SINK (
  -- IoTDB data sending plugin with target IoTDB
  'sink'                    = 'iotdb-thrift-sink',
  -- Data service for one of the DataNode nodes on the target IoTDB ip
  'sink.ip'                 = '127.0.0.1',
  -- Data service port of one of the DataNode nodes of the target IoTDB
  'sink.port'               = '6667',
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Streaming_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Streaming_apache.md @2239ee05), "minimalist CREATE PIPE". TEMPLATE: <PipeId> is a placeholder.
-- meaning: "synchronise the full amount of historical data and subsequent arrivals of realtime data" to 127.0.0.1:6667 (doc's words); source/processor default to iotdb-source/do-nothing-processor. QUIRK: trailing comma.
-- duet: error: expected a pipe name, found `<`
CREATE PIPE <PipeId> -- PipeId is a name that uniquely identifies the task.
WITH SINK (
  -- IoTDB data sending plugin with target IoTDB
  'sink'      = 'iotdb-thrift-sink',
  -- Data service for one of the DataNode nodes on the target IoTDB ip
  'sink.ip'   = '127.0.0.1',
  -- Data service port of one of the DataNode nodes of the target IoTDB
  'sink.port' = '6667',
)
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Streaming_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Streaming_apache.md @2239ee05), sink reuse example (indented in a list in the doc; indentation kept)
-- meaning: 'sink.thrift.host'/'sink.thrift.port' are NOT keys the thrift sink reads (it reads ip/port/host/node-urls): the example only illustrates sink-instance reuse for identical key/value sets regardless of order. QUIRK: trailing comma; as written the sink has no target and fails validation in real IoTDB.
-- duet: error: unknown sink parameter 'sink.thrift.host'
  CREATE PIPE pipe1
  WITH SINK (
    'sink' = 'iotdb-thrift-sink',
    'sink.thrift.host' = 'localhost',
    'sink.thrift.port' = '9999',
  )
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Streaming_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Streaming_apache.md @2239ee05), sink reuse example (same code block as pipe1, no separator between the two statements in the doc)
-- meaning: same sink attributes as pipe1 in another order, so IoTDB reuses one sink instance for both pipes. QUIRK: trailing comma; in the doc the two CREATEs sit in one code block with neither ';' nor separator.
-- duet: error: unknown sink parameter 'sink.thrift.port'
  CREATE PIPE pipe2
  WITH SINK (
    'sink' = 'iotdb-thrift-sink',
    'sink.thrift.port' = '9999',
    'sink.thrift.host' = 'localhost',
  )
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Streaming_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Streaming_apache.md @2239ee05). TEMPLATE: <PipeId> is a placeholder.
-- meaning: lists the pipes whose sink is the same instance (identical sink attributes) as the sink of <PipeId>.
-- duet: error: expected a pipe name, found `<`
SHOW PIPES
WHERE SINK USED BY <PipeId>
;

-- source: https://iotdb.apache.org/UserGuide/V1.3.x/User-Manual/Streaming_apache.html (apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Streaming_apache.md @2239ee05), "Load Plugin Statement"
-- meaning: registers a pipe plugin (here a processor) from a jar; IF NOT EXISTS makes re-registration a no-op. QUIRK: the URI is written in angle brackets; the grammar expects a string literal ('...'), so this is not valid as written.
-- duet: error: found `PIPEPLUGIN`
CREATE PIPEPLUGIN IF NOT EXISTS example
AS 'edu.tsinghua.iotdb.pipe.ExampleProcessor'
USING URI <https://example.com:8080/iotdb/pipe-plugin.jar>
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync.md @a5c72f37 (early 1.3 page, extractor/connector era), "Quick Start" (indented in a list; indentation kept)
-- meaning: full sync (history+realtime) A->B via the legacy spelling WITH CONNECTOR; 'iotdb-thrift-connector' is an alias of iotdb-thrift-sink; connector.ip/connector.port = target DataNode RPC address. In 1.3.0 the pipe is created STOPPED; since 1.3.1 it starts RUNNING.
-- duet: ok
  create pipe a2b
  with connector (
    'connector'='iotdb-thrift-connector',
    'connector.ip'='127.0.0.1',
    'connector.port'='6668'
  )
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync.md @a5c72f37, "Quick Start" (indented in a list)
-- meaning: start the pipe a2b (STOPPED -> RUNNING); a no-op error-free call if it already runs.
-- duet: ok
  start pipe a2b
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync.md @a5c72f37, "Create a sync task". TEMPLATE: <PipeId> is a placeholder.
-- meaning: legacy EXTRACTOR/CONNECTOR clause names and 'extractor.'/'connector.' key prefixes (same meaning as source./sink.): string-prefix pattern root.timecho, history window, realtime on, thrift connector to 127.0.0.1:6667. QUIRK: trailing commas before each ')'.
-- duet: error: expected a pipe name, found `<`
CREATE PIPE <PipeId> -- PipeId is the name that uniquely identifies the sync task
WITH EXTRACTOR (
  -- Default IoTDB Data Extraction Plugin
  'extractor'                    = 'iotdb-extractor',
  -- Path prefix, only data that can match the path prefix will be extracted for subsequent processing and delivery
  'extractor.pattern'            = 'root.timecho',
  -- Whether to extract historical data
  'extractor.history.enable'     = 'true',
  -- Describes the time range of the historical data being extracted, indicating the earliest possible time
  'extractor.history.start-time' = '2011.12.03T10:15:30+01:00',
  -- Describes the time range of the extracted historical data, indicating the latest time
  'extractor.history.end-time'   = '2022.12.03T10:15:30+01:00',
  -- Whether to extract realtime data
  'extractor.realtime.enable'    = 'true',
)
WITH PROCESSOR (
  -- Default data processing plugin, means no processing
  'processor'                    = 'do-nothing-processor',
)
WITH CONNECTOR (
  -- IoTDB data sending plugin with target IoTDB
  'connector'                    = 'iotdb-thrift-connector',
  -- Data service for one of the DataNode nodes on the target IoTDB ip
  'connector.ip'                 = '127.0.0.1',
  -- Data service port of one of the DataNode nodes of the target IoTDB
  'connector.port'               = '6667',
)
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync.md @a5c72f37, minimalist CREATE PIPE. TEMPLATE: <PipeId> is a placeholder.
-- meaning: full history + realtime of the whole instance to 127.0.0.1:6667 via the legacy CONNECTOR spelling. QUIRK: trailing comma.
-- duet: error: expected a pipe name, found `<`
CREATE PIPE <PipeId> -- PipeId is a name that uniquely identifies the task.
WITH CONNECTOR (
  -- IoTDB data sending plugin with target IoTDB
  'connector'      = 'iotdb-thrift-connector',
  -- Data service for one of the DataNode nodes on the target IoTDB ip
  'connector.ip'   = '127.0.0.1',
  -- Data service port of one of the DataNode nodes of the target IoTDB
  'connector.port' = '6667',
)
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync.md @a5c72f37, connector reuse example (indented; same code block as pipe2)
-- meaning: illustrates connector reuse only; 'connector.thrift.host'/'connector.thrift.port' are not keys the thrift connector reads. QUIRK: trailing comma.
-- duet: error: unknown sink parameter 'connector.thrift.host'
  CREATE PIPE pipe1
  WITH CONNECTOR (
    'connector' = 'iotdb-thrift-connector',
    'connector.thrift.host' = 'localhost',
    'connector.thrift.port' = '9999',
  )
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync.md @a5c72f37, connector reuse example
-- meaning: same connector attributes as pipe1 in another order: one shared connector instance. QUIRK: trailing comma; no separator from pipe1 in the doc.
-- duet: error: unknown sink parameter 'connector.thrift.port'
  CREATE PIPE pipe2
  WITH CONNECTOR (
    'connector' = 'iotdb-thrift-connector',
    'connector.thrift.port' = '9999',
    'connector.thrift.host' = 'localhost',
  )
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync.md @a5c72f37, "SHOW TASK". TEMPLATE: <PipeId> is a placeholder.
-- meaning: legacy spelling of SHOW PIPES WHERE SINK USED BY; lists pipes sharing <PipeId>'s connector instance.
-- duet: error: expected a pipe name, found `<`
SHOW PIPES
WHERE CONNECTOR USED BY <PipeId>
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "全量数据同步"
-- meaning: full sync A->B (defaults: inclusion=data.insert, history+realtime). Chinese comment. Trailing comma before ')' is legal: IoTDBSqlParser.g4 writes each attribute list as (clause COMMA)* clause?.
-- duet: ok
create pipe A2B
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6668', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "部分数据同步"
-- meaning: event time in [2023-08-23T08:00Z, 2023-10-23T08:00Z] inclusive, all paths, async sink. QUIRK: missing comma after 'stream' (hidden by the comment), trailing comma in the sink.
-- duet: error: expected `,` or `)` to close `WITH SOURCE (`, found `'start-time'`
create pipe A2B
WITH SOURCE (
  'source'= 'iotdb-source',
  'realtime.mode' = 'stream'  -- 新插入数据（pipe创建后）的抽取模式
  'start-time' = '2023.08.23T08:00:00+00:00',  -- 同步所有数据的开始 event time，包含 start-time
  'end-time' = '2023.10.23T08:00:00+00:00'  -- 同步所有数据的结束 event time，包含 end-time
) 
with SINK (
  'sink'='iotdb-thrift-async-sink',
  'node-urls' = '127.0.0.1:6668', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "双向数据传输" on A
-- meaning: dual-active A->B: inclusion=all, forwarding-pipe-requests=false (do not re-send what arrived from a pipe). QUIRK: comment written '--不转发' with no space after '--'.
-- duet: ok
create pipe AB
with source (
  'inclusion'='all',  -- 表示同步全量数据、元数据和权限
  'forwarding-pipe-requests' = 'false'   --不转发由其他 Pipe 写入的数据
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6668', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "双向数据传输" on B
-- meaning: mirror of AB towards 6667.
-- duet: ok
create pipe BA
with source (
  'inclusion'='all',  -- 表示同步全量数据、元数据和权限
  'forwarding-pipe-requests' = 'false'   --是否转发由其他 Pipe 写入的数据
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6667', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "边云数据传输" on B
-- meaning: edge B -> cloud A limited to path root.db.** with inclusion=all. Unlike the English page, brackets balance here; the zh page sends BA/CA/DA to three different ports (6667/6668/6669) although all target cluster A (doc inconsistency).
-- duet: ok
create pipe BA
with source (
   'inclusion'='all',  -- 表示同步全量数据、元数据和权限
   'path'='root.db.**', -- 限制范围
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6667', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "边云数据传输" on C
-- meaning: edge C -> cloud A, root.db.**, inclusion=all. QUIRK: trailing commas.
-- duet: ok
create pipe CA
with source (
   'inclusion'='all',  -- 表示同步全量数据、元数据和权限
   'path'='root.db.**', -- 限制范围
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6668', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "边云数据传输" on D
-- meaning: edge D -> cloud A, root.db.**, inclusion=all. QUIRK: trailing commas.
-- duet: ok
create pipe DA
with source (
   'inclusion'='all',  -- 表示同步全量数据、元数据和权限
   'path'='root.db.**', -- 限制范围
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6669', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "级联数据传输" on B
-- meaning: B -> C forwarding pipe-written data (the default anyway). QUIRK: '--是否' comment without a space.
-- duet: ok
create pipe BC
with source (
  'forwarding-pipe-requests' = 'true'   --是否转发由其他 Pipe 写入的数据
)
with sink (
  'sink'='iotdb-thrift-sink',
  'node-urls' = '127.0.0.1:6669', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "跨网闸数据传输"
-- meaning: air-gap sink through a one-way gateway at 10.53.53.53:9780 (TimechoDB feature).
-- duet: error: sink parameter 'sink' = 'iotdb-air-gap-sink': expected one of
create pipe A2B
with sink (
  'sink'='iotdb-air-gap-sink',
  'node-urls' = '10.53.53.53:9780', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "压缩同步"
-- meaning: snappy then lz4 compression, sender limited to 1 MiB/s of compressed bytes. QUIRK: no comma after 'snappy,lz4' (an empty '-- ' comment follows), so as written the attribute list is malformed.
-- duet: error: expected `,` or `)` to close `with sink (`, found `'rate-limit-bytes-per-second'`
create pipe A2B 
with sink (
 'node-urls' = '127.0.0.1:6668', -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
 'compressor' = 'snappy,lz4'  -- 
 'rate-limit-bytes-per-second'='1048576'  -- 每秒最大允许传输的byte数
)
;

-- source: https://iotdb.apache.org/zh/UserGuide/latest/User-Manual/Data-Sync_timecho.html (apache/iotdb-docs src/zh/UserGuide/Master/Tree/User-Manual/Data-Sync_timecho.md @e60fab88), "加密同步"
-- meaning: SSL thrift sink with trust store pki/trusted / password root.
-- duet: error: sink.ssl.trust-store-path pki/trusted: cannot read certificates
create pipe A2B
with sink (
  'sink'='iotdb-thrift-ssl-sink',
  'node-urls'='127.0.0.1:6667',  -- 目标端 IoTDB 中 DataNode 节点的数据服务端口的 url
  'ssl.trust-store-path'='pki/trusted', -- 连接目标端 DataNode 所需的 trust store 证书路径
  'ssl.trust-store-pwd'='root' -- 连接目标端 DataNode 所需的 trust store 证书密码
)
;

-- source: apache/iotdb-docs, English TimechoDB 1.3-era revision of User-Manual/Data-Sync_timecho.md (the revision with "Metadata synchronization" and "Downsampling data synchronization"; search-index file id 579365857), "Scope limitation". TEMPLATE: <PipeId> and [<parameter> = <value>,] are placeholders.
-- meaning: metadata sync = the same CREATE PIPE plus 'inclusion'='all' (data + schema + auth). QUIRK: WITH SOURCE is never closed before WITH SINK.
-- duet: error: expected a pipe name, found `<`
CREATE PIPE <PipeId> -- PipeId is the name that can uniquely calibrate a task
-- Data extraction plugin, required plugin
WITH SOURCE (
  'inclusion'='all',
  [<parameter> = <value>,],
-- Data connection plugin, required plugin
WITH SINK (
  [<parameter> = <value>,],
)
;

-- source: apache/iotdb-docs Data-Sync_timecho.md English 1.3-era revision (index id 579365857), "Full data synchronisation"
-- meaning: full sync (history + realtime, inclusion data.insert) to 127.0.0.1:6668 via legacy 'sink.ip'/'sink.port'. Note the trailing blank after the first comma (kept).
-- duet: ok
create pipe A2B
with sink (
  'sink'='iotdb-thrift-sink', 
  'sink.ip'='127.0.0.1',
  'sink.port'='6668'
)
;

-- source: apache/iotdb-docs Data-Sync_timecho.md English 1.3-era revision (index id 579365857), "Synchronising historical data"
-- meaning: the prose says realtime.enable must be false, but the statement omits it: as written IoTDB syncs history in [2023-08-23T08:00Z, 2023-10-23T08:00Z] AND all realtime data (history.start/end-time bound only the historical part).
-- duet: ok
create pipe A2B
WITH SOURCE (
'source'= 'iotdb-source',
'source.realtime.mode'='hybrid',
'source.history.start-time' = '2023.08.23T08:00:00+00:00',
'source.history.end-time' = '2023.10.23T08:00:00+00:00') 
with SINK (
'sink'='iotdb-thrift-async-sink',
'sink.node-urls'='xxxx:6668',
'sink.batch.enable'='false')
;

-- source: apache/iotdb-docs Data-Sync_timecho.md English 1.3-era revision (index id 579365857), "Bidirectional data transfer", on A
-- meaning: dual-active without history.enable=false (prose says it should be set; statement omits it) and without inclusion=all: only data.insert, no forwarding of pipe-written data. QUIRK: WITH SOURCE never closed.
-- duet: error: expected a quoted key such as 'sink.ip', found `with`
create pipe AB
with source (
  'source.forwarding-pipe-requests' = 'false',
with sink (
  'sink'='iotdb-thrift-sink',
  'sink.ip'='127.0.0.1',
  'sink.port'='6668'
)
;

-- source: apache/iotdb-docs Data-Sync_timecho.md English 1.3-era revision (index id 579365857), "Bidirectional data transfer", on B
-- meaning: mirror of AB towards 6667. QUIRK: WITH SOURCE never closed.
-- duet: error: expected a quoted key such as 'sink.ip', found `with`
create pipe BA
with source (
  'source.forwarding-pipe-requests' = 'false',
with sink (
  'sink'='iotdb-thrift-sink',
  'sink.ip'='127.0.0.1',
  'sink.port'='6667'
)
;

-- source: apache/iotdb-docs Data-Sync_timecho.md English 1.3-era revision (index id 579365857), "Downsampling data synchronization"
-- meaning: changing-value down-sampling with all defaults (compression-deviation 0, min-time-interval 0, max-time-interval Long.MAX_VALUE): a point is kept iff |v - last kept v| > 0, i.e. consecutive duplicates are dropped per series; TsFile (historical) events pass untouched unless 'processor.down-sampling.split-file'='true'. The doc's prose calls the SDT processor 'swinging-door-trending-sampling-processor' but the registered name is 'sdt-sampling-processor' (BuiltinPipePlugin).
-- duet: ok
create pipe A2B
with processor (
  'processor' = 'changing-value-sampling-processor'
)
with sink (
  'node-urls' = '127.0.0.1:6668'
)
;

-- source: apache/iotdb-docs, another English 1.3-era Data-Sync_timecho.md revision (index id 19025316), "Downsampling data synchronization"
-- meaning: same as the previous entry but spelled WITH CONNECTOR; bare 'node-urls' is read by the connector exactly like 'sink.node-urls'/'connector.node-urls'.
-- duet: ok
create pipe A2B
with processor (
  'processor' = 'changing-value-sampling-processor'
)
with connector (
  'node-urls' = '127.0.0.1:6668'
)
;

-- source: apache/iotdb-docs Data-Sync_timecho.md English 1.3-era revision (index id 579365857), "Compression synchronization (1.3.2 and later versions)"
-- meaning: default sink (iotdb-thrift-sink), payload compressed snappy then lz4. The page says 1.3.2+, other pages say 1.3.3+.
-- duet: ok
create pipe A2B 
with sink (
 'node-urls' = '127.0.0.1:6668',
 'compressor' = 'snappy,lz4'
)
;

-- source: apache/iotdb-docs Data-Sync_timecho.md English 1.3-era revision (index id 579365857), "Encryption synchronization (1.3.1 and later versions)"
-- meaning: SSL sink; in SHOW PIPES the trust-store password is printed as ****** (PipeParameters.ValueHider hides keys reducing to 'password' and 'ssl.trust-store-pwd').
-- duet: error: sink.ssl.trust-store-path pki/trusted: cannot read certificates
create pipe A2B
with sink (
  'sink'='iotdb-thrift-ssl-sink',
  'node-urls'='127.0.0.1:6667',
  'ssl.trust-store-path'='pki/trusted',
  'ssl.trust-store-pwd'='root'
)
;

-- source: https://iotdb.apache.org/UserGuide/latest/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/Master/Tree/User-Manual/Data-Sync_apache.md @094bb44b), "Create Task". TEMPLATE: <PipeId>, [<parameter> = <value>,] are placeholders.
-- meaning: grammar sketch: IF NOT EXISTS makes an existing name a no-op; SOURCE and PROCESSOR optional, SINK required, order fixed SOURCE, PROCESSOR, SINK; trailing comma inside a clause is legal in the real grammar.
-- duet: error: expected a pipe name, found `[`
CREATE PIPE [IF NOT EXISTS] <PipeId> -- PipeId is the name that uniquely identifies the task. 
-- Data extraction plugin, optional plugin
WITH SOURCE (
  [<parameter> = <value>,],
)
-- Data processing plugin, optional plugin
WITH PROCESSOR (
  [<parameter> = <value>,],
)
-- Data connection plugin, required plugin
WITH SINK (
  [<parameter> = <value>,],
)
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_timecho.md @379527ec, "Synchronisation Task - Create". TEMPLATE.
-- meaning: QUIRK: WITH SOURCE is never closed and the list shows a bare value '[<value>,]'; says SOURCE is "Required Plugin" although it is optional.
-- duet: error: expected a pipe name, found `<`
CREATE PIPE <PipeId> -- PipeId is the name that uniquely identifies the task.
-- Data Extraction Plugin, Required Plugin
WITH SOURCE (
  [<parameter> = <value>,], [<value>,]
-- Data connection plugin, required
WITH SINK (
  [<parameter> = <value>,], -- data connection plugin, required.
)
;

-- source: https://iotdb.apache.org/UserGuide/latest/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/Master/Tree/User-Manual/Data-Sync_apache.md @094bb44b), "Start Task". TEMPLATE.
-- meaning: STOPPED -> RUNNING. QUIRK: no space between PIPE and <PipeId> in the doc. START PIPE has no IF EXISTS form in the grammar; a missing pipe is an error.
-- duet: error: expected a pipe name, found `<`
START PIPE<PipeId>
;

-- source: https://iotdb.apache.org/UserGuide/latest/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/Master/Tree/User-Manual/Data-Sync_apache.md @094bb44b), "Stop Task". TEMPLATE.
-- meaning: RUNNING -> STOPPED (a user stop: ALTER PIPE keeps a user-stopped pipe STOPPED, see processors doc). No IF EXISTS form.
-- duet: error: expected a pipe name, found `<`
STOP PIPE <PipeId>
;

-- source: https://iotdb.apache.org/UserGuide/latest/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/Master/Tree/User-Manual/Data-Sync_apache.md @094bb44b), "Delete Task". TEMPLATE.
-- meaning: drops the pipe (no need to stop first); with IF EXISTS a missing pipe is not an error.
-- duet: error: expected a pipe name, found `[`
DROP PIPE [IF EXISTS] <PipeId>
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Streaming_apache.md @2239ee05, "Delete Stream Processing Task". TEMPLATE.
-- meaning: drop without IF EXISTS: error if the pipe does not exist.
-- duet: error: expected a pipe name, found `<`
DROP PIPE <PipeId>
;

-- source: https://iotdb.apache.org/UserGuide/latest/User-Manual/Data-Sync_apache.html (apache/iotdb-docs src/UserGuide/Master/Tree/User-Manual/Data-Sync_apache.md @094bb44b), "View Task". TEMPLATE.
-- meaning: one row for that pipe, same columns as SHOW PIPES.
-- duet: error: expected a pipe name, found `<`
SHOW PIPE <PipeId>
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Data-Sync_timecho.md @379527ec, "Viewing Tasks". TEMPLATE.
-- meaning: QUIRK: the doc ends the statement with a '.', which is not part of the grammar.
-- duet: error: expected a pipe name, found `<`
SHOW PIPE <PipeId>.
;

-- source: apache/iotdb-docs src/UserGuide/V1.3.x/User-Manual/Streaming_apache.md @2239ee05, "Delete Plugin Statement". TEMPLATE.
-- meaning: unregisters a user pipe plugin; fails if a pipe still uses it (PipeTaskInfo.validatePipePluginUsageByPipe).
-- duet: error: found `PIPEPLUGIN`
DROP PIPEPLUGIN [IF EXISTS] <alias>
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: setup of the ALTER test: prefix pattern root.test1, realtime.mode=stream, explicit do-nothing processor. '%s' is a Java String.format placeholder for the receiver's ip:port (kept verbatim).
-- duet: error: sink parameter 'node-urls' = '%s': expected host:port
create pipe a2b with source ('source'='iotdb-source', 'source.pattern'='root.test1', 'source.realtime.mode'='stream') with processor ('processor'='do-nothing-processor') with sink ('node-urls'='%s')
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: user stop; the pipe then stays STOPPED through every later ALTER (AlterPipeProcedureV2 keeps a user-stopped pipe stopped).
-- duet: ok
stop pipe a2b
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: MODIFY merges: source.pattern replaced, source=iotdb-source and source.realtime.mode=stream kept; CreationTime changes; ExceptionMessage cleared; state stays STOPPED; per-region progress kept (history not resent).
-- duet: ok
alter pipe a2b modify source ('source.pattern'='root.test2')
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: REPLACE drops every old source key: afterwards the source has only source=iotdb-source and source.path=root.test1.** (pattern root.test2 and realtime.mode=stream are gone).
-- duet: ok
alter pipe a2b replace source ('source'='iotdb-source', 'source.path'='root.test1.**')
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: MODIFY SINK adds batch.enable=false and keeps node-urls.
-- duet: ok
alter pipe a2b modify sink ('sink.batch.enable'='false')
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe (issued after 'start pipe a2b')
-- meaning: REPLACE PROCESSOR on a RUNNING pipe: processor becomes tumbling-time-sampling-processor with default interval 60 s; pipe stays RUNNING.
-- duet: ok
alter pipe a2b replace processor ('processor'='tumbling-time-sampling-processor')
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: MODIFY matches keys by their prefix-stripped form: 'connector.batch.enable' replaces the stored 'sink.batch.enable' (PipeParameters.addOrReplaceEquivalentAttributes), giving batch.enable=true.
-- duet: ok
alter pipe a2b modify sink ('connector.batch.enable'='true')
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: MODIFY with an empty list changes nothing in the source, but the pipe is still re-created (CreationTime advances).
-- duet: ok
alter pipe a2b modify source ()
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: REPLACE with an empty list resets the source to no keys at all, i.e. all defaults (iotdb-source, data.insert, root.**).
-- duet: ok
alter pipe a2b replace source ()
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: REPLACE PROCESSOR () removes the processor: back to do-nothing-processor.
-- duet: ok
alter pipe a2b replace processor ()
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testBasicAlterPipe
-- meaning: MODIFY SINK () keeps the sink as it is.
-- duet: ok
alter pipe a2b modify sink ()
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testAlterPipeSourceAndProcessor
-- meaning: tumbling-time down-sampling with a 1 s window applied to TsFile data too (split-file=true); with inserts at 1000,1500,2000,2500,3000 ms the receiver gets 1000, 2000, 3000. '%s' is a format placeholder.
-- duet: error: sink parameter 'node-urls' = '%s': expected host:port
create pipe a2b with source ('source' = 'iotdb-source','source.path' = 'root.db.d1.**') with processor ('processor'='tumbling-time-sampling-processor', 'processor.tumbling-time.interval-seconds'='1', 'processor.down-sampling.split-file'='true') with sink ('node-urls'='%s', 'batch.enable'='false')
;

-- source: apache/iotdb integration-test/src/test/java/org/apache/iotdb/pipe/it/autocreate/IoTDBPipeAlterIT.java (package org.apache.iotdb.pipe.it.autocreate; NOT a doc page: the stored IoTDB doc revisions carry no ALTER PIPE example; the ALTER PIPE doc section was only added to iotdb-docs in 2026, PR #1140), testAlterPipeSourceAndProcessor
-- meaning: two clauses in one ALTER: source path becomes root.db.d2.** (d1 no longer synced) and the window becomes 2 s (split-file=true kept by MODIFY); inserts at 11000..13000 step 500 on d2 arrive as 11000 and 13000 only.
-- duet: ok
alter pipe a2b modify source('source' = 'iotdb-source','source.path'='root.db.d2.**') modify processor ('processor.tumbling-time.interval-seconds'='2')
;

