# The top-level README describes the module.
get_filename_component(MY_CURRENT_DIR "${CMAKE_CURRENT_LIST_FILE}" PATH)
file(READ "${MY_CURRENT_DIR}/README.md" DOCUMENTATION)

itk_module(SpatialTranscriptomics
  DEPENDS
    ITKCommon
  PRIVATE_DEPENDS
    ITKIOImageBase
    ITKIOJPEG
    ITKIOPNG
    ITKIOTIFF
    ITKIOMeta
    ITKImageFunction
    ITKImageGrid
    ITKConnectedComponents
  TEST_DEPENDS
    ITKTestKernel
    ITKGoogleTest
    ITKIOImageBase
    ITKIOPNG
    ITKIOMeta
  DESCRIPTION
    "${DOCUMENTATION}"
  EXCLUDE_FROM_DEFAULT
  ENABLE_SHARED
)
