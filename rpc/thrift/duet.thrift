/*
 * Duet's client RPC: the subset of Apache IoTDB's `IClientRPCService` that
 * IoTDB's clients (Python Session, JDBC, CLI) and pipe sinks use, plus
 * `pipeTransfer`. Written for Duet from the wire facts in shared/iotdb-rpc.md.
 *
 * Compatibility rules for editing this file:
 *  - struct, field and method names, field ids, types and required/optional
 *    must match IoTDB: only method names and field ids go on the wire, but
 *    Java clients reject replies that miss a `required` field.
 *  - fields Duet never sends or reads (legacy result formats, tracing) are
 *    left out; thrift readers skip unknown field ids.
 *
 * Regenerate rpc/src/generated/duet.rs with rpc/scripts/gen.sh.
 */

namespace rs duet_rpc

// ---------------------------------------------------------------- common

struct TEndPoint {
  1: required string ip
  2: required i32 port
}

struct TSStatus {
  1: required i32 code
  2: optional string message
  3: optional list<TSStatus> subStatus
  // Never set by Duet: a client seeing it reconnects to that endpoint.
  4: optional TEndPoint redirectNode
  5: optional bool needRetry
  6: optional binary responseData
}

enum TSProtocolVersion {
  IOTDB_SERVICE_PROTOCOL_V1 = 0,
  IOTDB_SERVICE_PROTOCOL_V2 = 1,
  IOTDB_SERVICE_PROTOCOL_V3 = 2
}

// --------------------------------------------------------------- session

struct TSOpenSessionReq {
  1: required TSProtocolVersion client_protocol
  2: required string zoneId
  3: required string username
  4: optional string password
  5: optional map<string, string> configuration
}

struct TSOpenSessionResp {
  1: required TSStatus status
  // Must be IOTDB_SERVICE_PROTOCOL_V3 (2): the Python client fails on 0.
  2: required TSProtocolVersion serverProtocolVersion
  3: optional i64 sessionId
  4: optional map<string, string> configuration
}

struct TSCloseSessionReq {
  1: required i64 sessionId
}

struct TSSetTimeZoneReq {
  1: required i64 sessionId
  2: required string timeZone
}

struct TSGetTimeZoneResp {
  1: required TSStatus status
  2: required string timeZone
}

// ---------------------------------------------------- statements, queries

struct TSExecuteStatementReq {
  1: required i64 sessionId
  2: required string statement
  3: required i64 statementId
  4: optional i32 fetchSize
  5: optional i64 timeout
  6: optional bool enableRedirectQuery
  7: optional bool jdbcQuery
}

// Legacy (V1) result format; not read by the 2.0.x clients, kept so the
// field can be decoded if a peer sends it.
struct TSQueryDataSet {
  1: required binary time
  2: required list<binary> valueList
  3: required list<binary> bitmapList
}

struct TSExecuteStatementResp {
  1: required TSStatus status
  2: optional i64 queryId
  // Display names, without "Time".
  3: optional list<string> columns
  4: optional string operationType
  5: optional bool ignoreTimeStamp
  // Logical type names: BOOLEAN INT32 INT64 FLOAT DOUBLE TEXT TIMESTAMP DATE BLOB STRING.
  6: optional list<string> dataTypeList
  7: optional TSQueryDataSet queryDataSet
  // 8: nonAlignQueryDataSet (legacy) is left out.
  9: optional map<string, i32> columnNameIndexMap
  10: optional list<string> sgColumns
  11: optional list<i8> aliasColumns
  // 12: tracingInfo is left out.
  // Serialized TsBlocks (see rpc/src/tsblock.rs).
  13: optional list<binary> queryResult
  14: optional bool moreData
  15: optional string database
  16: optional bool tableModel
  17: optional list<i32> columnIndex2TsBlockColumnIndexList
}

struct TSFetchResultsReq {
  // The Python client swaps sessionId and statementId here.
  1: required i64 sessionId
  2: required string statement
  3: required i32 fetchSize
  4: required i64 queryId
  5: required bool isAlign
  6: optional i64 timeout
  7: optional i64 statementId
}

struct TSFetchResultsResp {
  1: required TSStatus status
  2: required bool hasResultSet
  3: required bool isAlign
  4: optional TSQueryDataSet queryDataSet
  // 5: nonAlignQueryDataSet (legacy) is left out.
  6: optional list<binary> queryResult
  7: optional bool moreData
}

struct TSCloseOperationReq {
  // The Python client swaps sessionId and statementId here.
  1: required i64 sessionId
  2: optional i64 queryId
  3: optional i64 statementId
  4: optional string preparedStatementName
}

// ---------------------------------------------------------------- inserts

// values: per measurement, u8 TSDataType code + big-endian value (rpc/src/insert.rs).
struct TSInsertRecordReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<string> measurements
  4: required binary values
  5: required i64 timestamp
  6: optional bool isAligned
  7: optional bool isWriteToTable
  8: optional list<i8> columnCategoryies
}

struct TSInsertRecordsReq {
  1: required i64 sessionId
  2: required list<string> prefixPaths
  3: required list<list<string>> measurementsList
  4: required list<binary> valuesList
  5: required list<i64> timestamps
  6: optional bool isAligned
}

struct TSInsertRecordsOfOneDeviceReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<list<string>> measurementsList
  4: required list<binary> valuesList
  5: required list<i64> timestamps
  6: optional bool isAligned
}

struct TSInsertStringRecordReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<string> measurements
  4: required list<string> values
  5: required i64 timestamp
  6: optional bool isAligned
  7: optional i64 timeout
}

// Several records of one device, values as text (typed like insertStringRecord).
struct TSInsertStringRecordsOfOneDeviceReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<list<string>> measurementsList
  4: required list<list<string>> valuesList
  5: required list<i64> timestamps
  6: optional bool isAligned
}

struct TSInsertStringRecordsReq {
  1: required i64 sessionId
  2: required list<string> prefixPaths
  3: required list<list<string>> measurementsList
  4: required list<list<string>> valuesList
  5: required list<i64> timestamps
  6: optional bool isAligned
}

// values: column-major, then an optional null-bitmap section (rpc/src/insert.rs).
struct TSInsertTabletReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<string> measurements
  4: required binary values
  5: required binary timestamps
  6: required list<i32> types
  7: required i32 size
  8: optional bool isAligned
  9: optional bool writeToTable
  10: optional list<i8> columnCategories
  11: optional bool isCompressed
  12: optional list<i8> encodingTypes
  13: optional i8 compressType
}

struct TSInsertTabletsReq {
  1: required i64 sessionId
  2: required list<string> prefixPaths
  3: required list<list<string>> measurementsList
  4: required list<binary> valuesList
  5: required list<binary> timestampsList
  6: required list<list<i32>> typesList
  7: required list<i32> sizeList
  8: optional bool isAligned
}

// ------------------------------------------------------------------- pipe

struct TPipeTransferReq {
  1: required i8 version
  // PipeRequestType, e.g. 51 = HANDSHAKE_DATANODE_V2.
  2: required i16 type
  3: required binary body
}

struct TPipeTransferResp {
  1: required TSStatus status
  2: optional binary body
}

// ---------------------------------------------------------------- service

// Schema calls of IoTDB's Session (create_time_series, set_storage_group, ...).
struct TSCreateTimeseriesReq {
  1: required i64 sessionId
  2: required string path
  3: required i32 dataType
  4: required i32 encoding
  5: required i32 compressor
  6: optional map<string, string> props
  7: optional map<string, string> tags
  8: optional map<string, string> attributes
  9: optional string measurementAlias
}

struct TSCreateMultiTimeseriesReq {
  1: required i64 sessionId
  2: required list<string> paths
  3: required list<i32> dataTypes
  4: required list<i32> encodings
  5: required list<i32> compressors
  6: optional list<map<string, string>> propsList
  7: optional list<map<string, string>> tagsList
  8: optional list<map<string, string>> attributesList
  9: optional list<string> measurementAliasList
}

struct TSCreateAlignedTimeseriesReq {
  1: required i64 sessionId
  2: required string prefixPath
  3: required list<string> measurements
  4: required list<i32> dataTypes
  5: required list<i32> encodings
  6: required list<i32> compressors
  7: optional list<string> measurementAlias
  8: optional list<map<string, string>> tagsList
  9: optional list<map<string, string>> attributesList
}

struct TSDeleteDataReq {
  1: required i64 sessionId
  2: required list<string> paths
  3: required i64 startTime
  4: required i64 endTime
}

// The Session API's execute_raw_data_query: full series paths, [startTime, endTime).
struct TSRawDataQueryReq {
  1: required i64 sessionId
  2: required list<string> paths
  3: optional i32 fetchSize
  4: required i64 startTime
  5: required i64 endTime
  6: required i64 statementId
  7: optional bool enableRedirectQuery
  8: optional bool jdbcQuery
  9: optional i64 timeout
  10: optional bool legalPathNodes
}

// The Session API's execute_last_data_query: the last point at or after `time`.
struct TSLastDataQueryReq {
  1: required i64 sessionId
  2: required list<string> paths
  3: optional i32 fetchSize
  4: required i64 time
  5: required i64 statementId
  6: optional bool enableRedirectQuery
  7: optional bool jdbcQuery
  8: optional i64 timeout
  9: optional bool legalPathNodes
}

service IClientRPCService {
  TSOpenSessionResp openSession(1: TSOpenSessionReq req)
  TSStatus closeSession(1: TSCloseSessionReq req)
  i64 requestStatementId(1: i64 sessionId)
  TSStatus setTimeZone(1: TSSetTimeZoneReq req)
  TSGetTimeZoneResp getTimeZone(1: i64 sessionId)

  TSExecuteStatementResp executeStatementV2(1: TSExecuteStatementReq req)
  TSExecuteStatementResp executeQueryStatementV2(1: TSExecuteStatementReq req)
  TSExecuteStatementResp executeUpdateStatementV2(1: TSExecuteStatementReq req)
  TSFetchResultsResp fetchResultsV2(1: TSFetchResultsReq req)
  TSStatus closeOperation(1: TSCloseOperationReq req)
  TSExecuteStatementResp executeRawDataQueryV2(1: TSRawDataQueryReq req)
  TSExecuteStatementResp executeLastDataQueryV2(1: TSLastDataQueryReq req)

  TSStatus insertRecord(1: TSInsertRecordReq req)
  TSStatus insertRecords(1: TSInsertRecordsReq req)
  TSStatus insertRecordsOfOneDevice(1: TSInsertRecordsOfOneDeviceReq req)
  TSStatus insertStringRecord(1: TSInsertStringRecordReq req)
  TSStatus insertStringRecordsOfOneDevice(1: TSInsertStringRecordsOfOneDeviceReq req)
  TSStatus insertStringRecords(1: TSInsertStringRecordsReq req)
  TSStatus insertTablet(1: TSInsertTabletReq req)
  TSStatus insertTablets(1: TSInsertTabletsReq req)

  TSStatus setStorageGroup(1: i64 sessionId, 2: string storageGroup)
  TSStatus deleteStorageGroups(1: i64 sessionId, 2: list<string> storageGroup)
  TSStatus createTimeseries(1: TSCreateTimeseriesReq req)
  TSStatus createAlignedTimeseries(1: TSCreateAlignedTimeseriesReq req)
  TSStatus createMultiTimeseries(1: TSCreateMultiTimeseriesReq req)
  TSStatus deleteTimeseries(1: i64 sessionId, 2: list<string> path)
  TSStatus deleteData(1: TSDeleteDataReq req)

  TSStatus testConnectionEmptyRPC()

  // No explicit id on purpose: thrift assigns -1, which is what IoTDB's
  // Java and Python pipe sinks send. Do not add "1:".
  TPipeTransferResp pipeTransfer(TPipeTransferReq req)
}
