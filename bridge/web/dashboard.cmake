# The dashboard (included by bridge/CMakeLists.txt): bridge/web is built with npm and esbuild
# into the build tree at build time, then embed_assets.cmake compiles its files into tern_bridge
# (TERN_DASHBOARD_SOURCE). With -DTERN_BUILD_DASHBOARD=OFF nothing is built and / answers 404.
option(TERN_BUILD_DASHBOARD "Build the web dashboard served at / (needs Node.js >= 18 and npm)" ON)

set(TERN_DASHBOARD_SOURCE ${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets.cpp)
set(tern_web_dir ${CMAKE_CURRENT_LIST_DIR})
# The bundle is one string literal longer than the 64 KiB that -Wpedantic asks compilers to take.
set_source_files_properties(${TERN_DASHBOARD_SOURCE} PROPERTIES
                            COMPILE_OPTIONS -Wno-overlength-strings)

if(NOT TERN_BUILD_DASHBOARD)
  add_custom_command(OUTPUT ${TERN_DASHBOARD_SOURCE}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${TERN_DASHBOARD_SOURCE} -P ${tern_web_dir}/embed_assets.cmake
    DEPENDS ${tern_web_dir}/embed_assets.cmake
    COMMENT "Dashboard not built (TERN_BUILD_DASHBOARD=OFF): embedding no files")
  return()
endif()

find_program(TERN_NODE node)
find_program(TERN_NPM npm)
set(tern_node_version "")
if(TERN_NODE)
  execute_process(COMMAND ${TERN_NODE} --version OUTPUT_VARIABLE tern_node_output
                  ERROR_QUIET RESULT_VARIABLE tern_node_result)
  string(REGEX MATCH "^v[0-9]+(\\.[0-9]+)*" tern_node_version "${tern_node_output}")
  string(REGEX REPLACE "^v" "" tern_node_version "${tern_node_version}")
endif()
if(NOT TERN_NODE OR NOT TERN_NPM OR NOT tern_node_version OR tern_node_version VERSION_LESS 18)
  if(NOT tern_node_version)
    set(tern_node_version "unknown")
  endif()
  message(FATAL_ERROR
    "TERN_BUILD_DASHBOARD is ON, but the dashboard (bridge/web) needs Node.js >= 18 and npm at "
    "build time (found node: ${TERN_NODE}, version ${tern_node_version}; npm: ${TERN_NPM}). "
    "Install them (Debian 12: apt-get install nodejs npm, or Node.js 20 from nodejs.org) and "
    "reconfigure, or configure with -DTERN_BUILD_DASHBOARD=OFF to build without the dashboard "
    "(then / answers 404).")
endif()

# npm ci when node_modules is missing or older than the lock file (needs the npm registry once).
set(tern_web_stamp ${tern_web_dir}/node_modules/.package-lock.json)
add_custom_command(OUTPUT ${tern_web_stamp}
  COMMAND ${TERN_NPM} ci --no-audit --no-fund
  DEPENDS ${tern_web_dir}/package.json ${tern_web_dir}/package-lock.json
  WORKING_DIRECTORY ${tern_web_dir}
  COMMENT "npm ci in bridge/web (the dashboard's build dependencies)"
  VERBATIM)

file(GLOB_RECURSE tern_web_sources CONFIGURE_DEPENDS ${tern_web_dir}/src/*)
set(tern_web_dist ${CMAKE_CURRENT_BINARY_DIR}/dashboard)
add_custom_command(OUTPUT ${TERN_DASHBOARD_SOURCE}
  COMMAND ${TERN_NPM} run --silent build -- ${tern_web_dist}
  COMMAND ${CMAKE_COMMAND} -DDIST_DIR=${tern_web_dist} -DOUTPUT=${TERN_DASHBOARD_SOURCE}
          -P ${tern_web_dir}/embed_assets.cmake
  DEPENDS ${tern_web_sources} ${tern_web_dir}/index.html ${tern_web_dir}/build.mjs
          ${tern_web_dir}/embed_assets.cmake ${tern_web_stamp}
  WORKING_DIRECTORY ${tern_web_dir}
  COMMENT "Building the dashboard (esbuild) and embedding it"
  VERBATIM)
