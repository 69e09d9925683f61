/*=========================================================================
 *
 *  Copyright NumFOCUS
 *
 *  Licensed under the Apache License, Version 2.0 (the "License");
 *  you may not use this file except in compliance with the License.
 *  You may obtain a copy of the License at
 *
 *         http://www.apache.org/licenses/LICENSE-2.0.txt
 *
 *  Unless required by applicable law or agreed to in writing, software
 *  distributed under the License is distributed on an "AS IS" BASIS,
 *  WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 *  See the License for the specific language governing permissions and
 *  limitations under the License.
 *
 *=========================================================================*/
#ifndef itkHDF5Support_h
#define itkHDF5Support_h

// Private to the library: a small RAII layer over the HDF5 C API for the formats this module reads
// and writes (10x matrices, AnnData, HEST patches, our patch datasets). Every failure is an
// itk::ExceptionObject naming the file and the object; HDF5's own error printing is silenced.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace itk
{
namespace hdf5
{

/** An HDF5 identifier closed by the right H5*close when it goes out of scope. */
class Handle
{
public:
  Handle() = default;
  explicit Handle(hid_t id)
    : m_Id(id)
  {}
  Handle(Handle && other) noexcept
    : m_Id(other.m_Id)
  {
    other.m_Id = -1;
  }
  Handle &
  operator=(Handle && other) noexcept;
  Handle(const Handle &) = delete;
  Handle &
  operator=(const Handle &) = delete;
  ~Handle();

  hid_t
  Get() const
  {
    return m_Id;
  }
  bool
  IsValid() const
  {
    return m_Id >= 0;
  }

private:
  hid_t m_Id{ -1 };
};

/** An open file and the path it came from (for messages). */
class File
{
public:
  /** Opens read-only; a missing, truncated or non-HDF5 file is a clear exception. */
  static File
  OpenForReading(const std::string & path);
  /** Creates an empty file in memory, to be filled by the Write* methods and then written out
   * whole by SaveAs. \p path names it in messages. HDF5 never writes to disk itself: a disk that
   * fills up half-way would leave it unable to close the file (and to shut down cleanly). */
  static File
  CreateInMemory(const std::string & path);
  /** Writes the file made by CreateInMemory to \p path through itk::AtomicFile: whole, or not at
   * all with a clear exception (a full disk included) and any earlier file at \p path unchanged.
   * \p what names it in messages ("the dataset"). */
  void
  SaveAs(const std::string & path, const std::string & what) const;

  hid_t
  Id() const
  {
    return m_Handle.Get();
  }
  const std::string &
  Path() const
  {
    return m_Path;
  }

  /** True if every component of the slash-separated \p name exists. */
  bool
  Exists(const std::string & name) const;
  /** True if \p name is a group (false for a dataset). */
  bool
  IsGroup(const std::string & name) const;
  /** Shape of a dataset. */
  std::vector<hsize_t>
  Shape(const std::string & name) const;

  /** Numbers of any stored integer or float type, converted by HDF5 to T; \p shape gets the shape. */
  std::vector<double>
  ReadDoubles(const std::string & name, std::vector<hsize_t> * shape = nullptr) const;
  std::vector<std::int64_t>
  ReadIntegers(const std::string & name, std::vector<hsize_t> * shape = nullptr) const;
  std::vector<float>
  ReadFloats(const std::string & name, std::vector<hsize_t> * shape = nullptr) const;
  std::vector<std::uint8_t>
  ReadBytes(const std::string & name, std::vector<hsize_t> * shape = nullptr) const;
  /** Fixed- or variable-length strings, trailing NULs and spaces removed. */
  std::vector<std::string>
  ReadStrings(const std::string & name) const;

  bool
  HasAttribute(const std::string & object, const std::string & attribute) const;
  /** A string attribute (fixed or variable length, scalar or the first element). */
  std::string
  ReadStringAttribute(const std::string & object, const std::string & attribute) const;
  std::vector<std::int64_t>
  ReadIntegerAttribute(const std::string & object, const std::string & attribute) const;
  std::vector<double>
  ReadDoubleAttribute(const std::string & object, const std::string & attribute) const;

  /** Creates the groups along \p name as needed. */
  void
  CreateGroup(const std::string & name) const;
  void
  WriteFloats(const std::string & name, const std::vector<float> & values, const std::vector<hsize_t> & shape) const;
  void
  WriteDoubles(const std::string & name, const std::vector<double> & values, const std::vector<hsize_t> & shape) const;
  void
  WriteIntegers(const std::string & name, const std::vector<std::int64_t> & values,
                const std::vector<hsize_t> & shape) const;
  void
  WriteInt32s(const std::string & name, const std::vector<std::int32_t> & values,
              const std::vector<hsize_t> & shape) const;
  /** Bytes, chunked by the first dimension and deflate-compressed (patch images). */
  void
  WriteBytes(const std::string & name, const std::uint8_t * values, const std::vector<hsize_t> & shape) const;
  /** Fixed-length ASCII strings (the layout 10x and HEST use), with the given shape. */
  void
  WriteStrings(const std::string & name, const std::vector<std::string> & values,
               const std::vector<hsize_t> & shape) const;
  /** Variable-length UTF-8 strings (h5py's str, the layout AnnData writes); an empty shape writes
   * one scalar string. */
  void
  WriteTextStrings(const std::string & name, const std::vector<std::string> & values,
                   const std::vector<hsize_t> & shape) const;
  /** A variable-length UTF-8 string attribute (h5py's str). */
  void
  WriteTextAttribute(const std::string & object, const std::string & attribute, const std::string & value) const;
  /** An attribute array of variable-length UTF-8 strings; an empty one as h5py writes [] (float64,
   * no element). */
  void
  WriteTextArrayAttribute(const std::string & object, const std::string & attribute,
                          const std::vector<std::string> & values) const;
  void
  WriteStringAttribute(const std::string & object, const std::string & attribute, const std::string & value) const;
  void
  WriteDoubleAttribute(const std::string & object, const std::string & attribute, double value) const;
  void
  WriteIntegerAttribute(const std::string & object, const std::string & attribute, std::int64_t value) const;

private:
  File(Handle handle, std::string path)
    : m_Handle(std::move(handle))
    , m_Path(std::move(path))
  {}
  Handle
  OpenDataset(const std::string & name) const;
  Handle
  OpenObject(const std::string & name) const;
  template <typename T>
  std::vector<T>
  ReadNumbers(const std::string & name, hid_t memoryType, std::vector<hsize_t> * shape) const;
  void
  WriteNumbers(const std::string & name, hid_t memoryType, hid_t fileType, const void * values,
               const std::vector<hsize_t> & shape, bool compress) const;

  Handle      m_Handle;
  std::string m_Path;
};

} // end namespace hdf5
} // end namespace itk

#endif
