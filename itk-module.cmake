# One sentence (the README, read whole, holds semicolons, which CMake would split into arguments).
set(DOCUMENTATION "Gene-conditioned diffusion for spatial transcriptomics (C2L-ST) and S2S-ST imputation: \
stain normalisation, spatial data readers, patch extraction, diffusion pretraining, local adaptation, \
synthesis and expression regression, backed by LibTorch.")

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
