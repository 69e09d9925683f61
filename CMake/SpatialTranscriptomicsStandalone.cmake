# Build the module against an installed ITK that has no ITKModuleExternal.cmake (Debian's
# libinsighttoolkit5-dev): the same library, tests and tools as the module build, with plain CMake.
set(SpatialTranscriptomics_STANDALONE ON)

set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

# The ITK modules of itk-module.cmake, plus those the tools read and write images with.
find_package(ITK 5.2 REQUIRED COMPONENTS
  ITKCommon
  ITKTestKernel
  ITKIOImageBase
  ITKIOPNG
  ITKIOJPEG
  ITKIOTIFF
  ITKIOMeta
  ITKImageFunction
  ITKImageGrid
  ITKConnectedComponents)
include(${ITK_USE_FILE})
include(${CMAKE_CURRENT_LIST_DIR}/../itk-module-init.cmake)
include(GenerateExportHeader)

set(SpatialTranscriptomics_INCLUDE_DIRS
  ${CMAKE_CURRENT_SOURCE_DIR}/include
  ${CMAKE_CURRENT_BINARY_DIR}/include)

include(CTest)
if(BUILD_TESTING)
  find_package(GTest REQUIRED)
  include(GoogleTest)

  # ITK's CreateTestDriver: one executable running the legacy itk*Test.cxx tests by name, with
  # ITK's argument processing and IO factory registration.
  macro(CreateTestDriver KIT KIT_LIBS KitTests)
    set(CMAKE_TESTDRIVER_BEFORE_TESTMAIN "#include \"itkTestDriverBeforeTest.inc\"")
    set(CMAKE_TESTDRIVER_AFTER_TESTMAIN "#include \"itkTestDriverAfterTest.inc\"")
    create_test_sourcelist(Tests ${KIT}TestDriver.cxx ${KitTests}
      EXTRA_INCLUDE itkTestDriverIncludeRequiredIOFactories.h
      FUNCTION ProcessArgumentsAndRegisterRequiredFactories)
    add_executable(${KIT}TestDriver ${KIT}TestDriver.cxx ${Tests})
    target_link_libraries(${KIT}TestDriver LINK_PUBLIC ${KIT_LIBS} ${ITK_LIBRARIES})
  endmacro()

  # ITK's CreateGoogleTestDriver, with CMake's test discovery (generous timeout: start-up is slow).
  macro(CreateGoogleTestDriver KIT KIT_LIBS KitTests)
    add_executable(${KIT}GTestDriver ${KitTests})
    target_link_libraries(${KIT}GTestDriver LINK_PUBLIC ${KIT_LIBS} ${ITK_LIBRARIES} GTest::gtest_main)
    gtest_discover_tests(${KIT}GTestDriver DISCOVERY_TIMEOUT 120)
  endmacro()
endif()

add_subdirectory(src)
add_subdirectory(examples)
if(BUILD_TESTING)
  add_subdirectory(test)
endif()
