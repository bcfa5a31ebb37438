# Test of tern-db on a real database: import, export (byte-exact), every read command, errors.
# Run by CTest: cmake -DTERN_DB=<tern-db> -DWORK_DIR=<scratch dir> -P round_trip_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(data "${WORK_DIR}/data")

# Runs tern-db with ARGN; the exit code must be EXPECT; the output lands in OUT and ERR.
function(tern_db expect)
  execute_process(COMMAND "${TERN_DB}" -d "${data}" ${ARGN}
    RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL expect)
    message(FATAL_ERROR "tern-db ${ARGN}: exit ${code}, expected ${expect}\n${out}\n${err}")
  endif()
  set(OUT "${out}" PARENT_SCOPE)
  set(ERR "${err}" PARENT_SCOPE)
endfunction()

function(expect_contains text wanted)
  string(FIND "${text}" "${wanted}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected to find\n  ${wanted}\nin\n${text}")
  endif()
endfunction()

# The export is sorted by topic and writes keys in a fixed order, so this is also its exact form.
set(canonical
[=[{"encoding":"base64","expires_at":4102444800000,"payload":"AP8Q","properties":{},"qos":0,"retain":true,"topic":"bin/data"}
{"payload":"on","properties":{"content_type":"text/plain","correlation_data":"AAECAw==","payload_format_indicator":1,"response_topic":"reply/here","user_properties":[["b","2"],["a","1"],["b","3"]]},"qos":2,"retain":true,"topic":"home/lamp"}
{"payload":"21.5 °C","properties":{},"qos":1,"retain":false,"topic":"sensors/t1"}
]=])
file(WRITE "${WORK_DIR}/in.jsonl" "${canonical}\n{\"topic\":\"gone/soon\",\"payload\":\"x\"}\n{\"topic\":\"gone/soon\",\"payload\":\"\"}\n")

# Nothing to read yet: read commands must not create a database.
tern_db(1 retained)
expect_contains("${ERR}" "cannot open RocksDB at ${data}: no database here")
if(EXISTS "${data}")
  message(FATAL_ERROR "a read command created ${data}")
endif()

tern_db(0 import-retained "${WORK_DIR}/in.jsonl")
expect_contains("${ERR}" "imported 4 retained messages, cleared 1")
tern_db(0 export-retained "${WORK_DIR}/out.jsonl")
expect_contains("${ERR}" "exported 3 retained messages")
file(READ "${WORK_DIR}/out.jsonl" exported)
if(NOT exported STREQUAL canonical)
  message(FATAL_ERROR "export differs from the import:\n${exported}\nexpected:\n${canonical}")
endif()
tern_db(0 export-retained -)
if(NOT OUT STREQUAL canonical)
  message(FATAL_ERROR "export to stdout differs:\n${OUT}")
endif()
tern_db(0 retained --json)
if(NOT OUT STREQUAL canonical)
  message(FATAL_ERROR "retained --json differs from the export:\n${OUT}")
endif()

tern_db(0 retained)
expect_contains("${OUT}" "home/lamp  qos=2 retain=1 bytes=2 payload=\"on\" properties={\"content_type\":\"text/plain\"")
expect_contains("${OUT}" "bin/data  qos=0 retain=1 bytes=3 expires=2100-01-01T00:00:00.000Z payload=<3 bytes binary: 00 ff 10>")
expect_contains("${OUT}" "3 retained messages")
tern_db(0 sessions)
expect_contains("${OUT}" "0 sessions")
tern_db(0 queues)
expect_contains("${OUT}" "0 clients: queued=0 in_flight=0 incoming_qos2=0")
tern_db(0 dump)
expect_contains("${OUT}" "[meta] format=1 epoch=0")
expect_contains("${OUT}" "[retained] sensors/t1  qos=1 retain=0 bytes=8 payload=\"21.5 °C\"")
expect_contains("${OUT}" "totals: retained=3 sessions=0 queue=0 incoming_qos2=0 history=0")

# A bad line is reported with its number, and nothing of the file is written.
file(WRITE "${WORK_DIR}/bad.jsonl" "{\"topic\":\"ok/1\",\"payload\":\"1\"}\n\n{\"topic\":\"a/+\",\"payload\":\"1\"}\n")
tern_db(1 import-retained "${WORK_DIR}/bad.jsonl")
expect_contains("${ERR}" "tern-db: ${WORK_DIR}/bad.jsonl:3: 'a/+' is not a valid topic name")
file(WRITE "${WORK_DIR}/bad.jsonl" "{\"topic\":\"ok/1\",\"payload\":\"1\",\"qos\":3}\n")
tern_db(1 import-retained "${WORK_DIR}/bad.jsonl")
expect_contains("${ERR}" "bad.jsonl:1: 'qos' must be 0, 1 or 2")
file(WRITE "${WORK_DIR}/bad.jsonl" "{\"topic\":\"ok/1\",\"payload\":\"!!\",\"encoding\":\"base64\"}\nnot json\n")
tern_db(1 import-retained "${WORK_DIR}/bad.jsonl")
expect_contains("${ERR}" "bad.jsonl:1: 'payload': base64 length is not a multiple of 4")
tern_db(0 retained)
expect_contains("${OUT}" "3 retained messages")

tern_db(2 retained --bogus)
file(REMOVE_RECURSE "${WORK_DIR}")
