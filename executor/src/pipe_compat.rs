//! IoTDB's pipe parameters that Duet does not take, each with the reason a
//! refusal gives. With the accepted keys of [`crate::pipes`] they make the
//! compatibility table (docs/iotdb-compatibility.md), which a test checks
//! against both lists so it cannot drift from the code.

/// (stage, key without its stage prefix, why Duet refuses it). Keys are
/// IoTDB 1.3/2.0's (PipeSourceConstant, PipeProcessorConstant,
/// PipeSinkConstant; docs/research/iotdb-pipe-keys.md).
pub const NOT_IN_DUET: &[(&str, &str, &str)] = &[
    // Source.
    ("source", "path.exclusion", "exclusion patterns are not supported yet: name the paths to send with 'path'"),
    ("source", "pattern.exclusion", "exclusion patterns are not supported yet: name the prefix to send with 'pattern'"),
    ("source", "mods.enable", "Duet has no TsFiles: deletions travel as events when 'inclusion' has data.delete"),
    ("source", "mods", "Duet has no TsFiles: deletions travel as events when 'inclusion' has data.delete"),
    ("source", "watermark.interval-ms", "Duet sends no watermark events"),
    ("source", "capture.tree", "Duet has the tree model only: every pipe captures it"),
    ("source", "capture.table", "Duet has the tree model only (no table model to capture)"),
    ("source", "database-name", "a table-model filter: Duet has the tree model only"),
    ("source", "table-name", "a table-model filter: Duet has the tree model only"),
    ("source", "database", "a table-model filter: Duet has the tree model only"),
    ("source", "table", "a table-model filter: Duet has the tree model only"),
    ("source", "user", "a source reads as the pipe's creator in Duet; a per-pipe source user is not supported"),
    ("source", "username", "a source reads as the pipe's creator in Duet; a per-pipe source user is not supported"),
    ("source", "password", "a source reads as the pipe's creator in Duet; a per-pipe source user is not supported"),
    ("source", "skipif", "a source reads as the pipe's creator in Duet; there are no per-pipe privileges to skip on"),
    // Processor.
    ("processor", "output.max-delay-seconds", "the aggregate-processor is not supported"),
    ("processor", "output.database", "the aggregate-processor is not supported"),
    ("processor", "output.measurements", "the aggregate-processor is not supported"),
    ("processor", "output.min-report-interval-seconds", "the aggregate-processor is not supported"),
    ("processor", "output.series", "the count-point-processor is not supported"),
    ("processor", "operators", "the aggregate-processor is not supported"),
    ("processor", "windowing-strategy", "the aggregate-processor is not supported"),
    ("processor", "sliding.boundary-time", "the aggregate-processor is not supported"),
    ("processor", "sliding.seconds", "the aggregate-processor is not supported"),
    ("processor", "new-db-name", "the rename-database-processor is a table-model processor"),
    // Sink.
    ("sink", "host", "name the peer with 'sink.ip' and 'sink.port', or 'sink.node-urls'"),
    ("sink", "parallel.tasks", "a Duet pipe sends one batch at a time, in order (the receiver applies in order)"),
    ("sink", "realtime-first", "a Duet pipe sends its history first, then streams, in log order"),
    ("sink", "load-balance-strategy", "'sink.node-urls' are tried in order, as failover"),
    ("sink", "leader-cache.enable", "a Duet node has no regions or leaders"),
    ("sink", "format", "Duet sends change events; there are no TsFile or tablet formats to choose"),
    ("sink", "load-tsfile-strategy", "Duet has no TsFiles"),
    ("sink", "load-tsfile-validation", "Duet has no TsFiles"),
    ("sink", "enable-send-tsfile-limit", "Duet has no TsFiles"),
    ("sink", "mark-as-pipe-request", "a Duet receiver always records a change's origin (what double-living and 'forwarding-pipe-requests' use)"),
    ("sink", "mark-as-general-write-request", "a Duet receiver always records a change's origin"),
    ("sink", "exception.data.convert-on-type-mismatch", "type conflicts are resolved by one rule on both nodes (SHOW CONFLICTS), never per pipe"),
    ("sink", "exception.conflict.resolve-strategy", "conflicts are resolved by one rule on both nodes (SHOW CONFLICTS), never per pipe"),
    ("sink", "exception.conflict.retry-max-time-seconds", "a Duet pipe never stops on data: conflicts are resolved, not retried"),
    ("sink", "exception.conflict.record-ignored-data", "what a conflict leaves out is always recorded (SHOW CONFLICTS)"),
    ("sink", "exception.others.retry-max-time-seconds", "a Duet pipe retries an unreachable peer forever, with capped backoff"),
    ("sink", "exception.others.record-ignored-data", "a Duet pipe ignores no data"),
    ("sink", "skipif", "a Duet sink sends everything its source selected"),
    ("sink", "use-event-user-name", "a Duet sink logs in as 'sink.username'"),
    ("sink", "air-gap.handshake-timeout-ms", "the air-gap sink is not supported"),
    ("sink", "air-gap.e-language.enable", "the air-gap sink is not supported"),
    ("sink", "version", "the legacy-pipe sink is not supported"),
    ("sink", "websocket.port", "the websocket sink is not supported"),
    ("sink", "topic", "subscription sinks are not supported"),
    ("sink", "consumer-group", "subscription sinks are not supported"),
];

/// Why Duet refuses IoTDB's `key` (without its prefix) in `stage`, if it
/// is one of IoTDB's. `opcua.*` keys are the OPC UA sink's.
pub fn why_not(stage: &str, key: &str) -> Option<&'static str> {
    if stage == "sink" && key.starts_with("opcua.") {
        return Some("the OPC UA sink is not supported");
    }
    NOT_IN_DUET
        .iter()
        .find(|(s, k, _)| *s == stage && *k == key)
        .map(|(_, _, why)| *why)
}
