# The deltac CMake package (find_package(deltac); cmake/deltacConfig.cmake.in, DeltacAddModel.cmake).
# The build tree exports one at its top (-Ddeltac_DIR=<build>: what the tests use, no installation
# needed), and `cmake --install` installs one in PREFIX/lib/cmake/deltac next to PREFIX/bin/deltac
# and the files it needs (tools/deltac/CMakeLists.txt).
include(CMakePackageConfigHelpers)
set(DELTAC_PACKAGE_VERSION 0.1.0)

# The build tree: the compiler at its absolute path.
set(DELTAC_CONFIG_EXECUTABLE "set(DELTAC_EXECUTABLE \"${DELTAC_TOOLS_DIR}/deltac\")")
configure_file(${CMAKE_CURRENT_LIST_DIR}/deltacConfig.cmake.in
  ${CMAKE_BINARY_DIR}/deltacConfig.cmake @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/DeltacAddModel.cmake
  ${CMAKE_BINARY_DIR}/DeltacAddModel.cmake COPYONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/deltacConfigVersion.cmake
  VERSION ${DELTAC_PACKAGE_VERSION} COMPATIBILITY SameMajorVersion)

# The installation: the compiler found relative to the package, PREFIX/lib/cmake/deltac/../../../bin,
# so the installed tree can move.
set(DELTAC_CONFIG_EXECUTABLE
  "get_filename_component(DELTAC_EXECUTABLE \"\${CMAKE_CURRENT_LIST_DIR}/../../../bin/deltac\" ABSOLUTE)")
configure_file(${CMAKE_CURRENT_LIST_DIR}/deltacConfig.cmake.in
  ${CMAKE_BINARY_DIR}/package/deltacConfig.cmake @ONLY)
install(FILES
    ${CMAKE_BINARY_DIR}/package/deltacConfig.cmake
    ${CMAKE_BINARY_DIR}/deltacConfigVersion.cmake
    ${CMAKE_CURRENT_LIST_DIR}/DeltacAddModel.cmake
  DESTINATION lib/cmake/deltac)
