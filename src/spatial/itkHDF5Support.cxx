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
#include "itkHDF5Support.h"

#include "itkAtomicFile.h"
#include "itkReadableFile.h"

#include "itkMacro.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

namespace itk
{
namespace hdf5
{
namespace
{
/** HDF5 prints its error stack to stderr by default; this module reports errors itself. */
void
SilenceHDF5Errors()
{
  static const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

/** Creation properties of the given class (H5P_GROUP_CREATE, H5P_DATASET_CREATE) without HDF5's
 * default time stamps in object headers, so that the same content gives the same bytes (a resumed
 * run's files equal an uninterrupted run's; checksums of a dataset mean something). */
Handle
UntimedCreationProperties(hid_t propertyClass)
{
  Handle properties(H5Pcreate(propertyClass));
  H5Pset_obj_track_times(properties.Get(), false);
  return properties;
}

/** The most values one dataset or attribute may declare before it is read: 2^31 (16 GiB of doubles),
 * or SPATIALTRANSCRIPTOMICS_HDF5_MAX_VALUES. A damaged or hostile file can declare any size; this
 * refuses it before anything is allocated. */
std::size_t
MaximumValues()
{
  static const std::size_t limit = [] {
    const char * text = std::getenv("SPATIALTRANSCRIPTOMICS_HDF5_MAX_VALUES");
    const auto   given = text != nullptr ? std::strtoull(text, nullptr, 10) : 0ULL;
    return given > 0 ? static_cast<std::size_t>(given) : std::size_t{ 1 } << 31;
  }();
  return limit;
}

/** The number of values \p space declares. Throws when the product of its dimensions exceeds
 * MaximumValues() (or overflows), or when \p storedBytes (where known) cannot hold that many
 * values of at least \p valueBytes each: such a file is damaged, and reading it would allocate
 * what it declares. */
std::size_t
CheckedCount(hid_t space, std::size_t valueBytes, std::optional<hsize_t> storedBytes, const std::string & what)
{
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0)
  {
    itkGenericExceptionMacro(<< "Cannot read the shape of " << what);
  }
  std::vector<hsize_t> dimensions(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dimensions.data(), nullptr);
  std::size_t count = 1;
  for (const auto d : dimensions)
  {
    if (d != 0 && count > MaximumValues() / d)
    {
      itkGenericExceptionMacro(
        << what << " declares more than " << MaximumValues()
        << " values: the file is damaged, or larger than this reader accepts "
           "(raise the limit with the environment variable SPATIALTRANSCRIPTOMICS_HDF5_MAX_VALUES)");
    }
    count *= static_cast<std::size_t>(d);
  }
  if (storedBytes && count > *storedBytes / std::max<std::size_t>(1, valueBytes))
  {
    itkGenericExceptionMacro(<< what << " declares " << count << " values but stores only " << *storedBytes
                             << " bytes: the file is damaged (truncated or altered)");
  }
  return count;
}

/** The bytes a dataset stores, where they bound its values: contiguous and compact layouts (chunked
 * ones may be compressed, so their storage says nothing about their size). */
std::optional<hsize_t>
StoredBytes(hid_t dataset)
{
  Handle     properties(H5Dget_create_plist(dataset));
  const auto layout = properties.IsValid() ? H5Pget_layout(properties.Get()) : H5D_LAYOUT_ERROR;
  if (layout == H5D_CONTIGUOUS || layout == H5D_COMPACT)
  {
    return H5Dget_storage_size(dataset);
  }
  return std::nullopt;
}

/** The least bytes a value of \p type takes in the file: its size, or 1 for variable-length strings
 * (stored elsewhere, in the file's heap). */
std::size_t
LeastValueBytes(hid_t type)
{
  return H5Tis_variable_str(type) > 0 ? 1 : std::max<std::size_t>(1, H5Tget_size(type));
}

std::string
Trimmed(std::string s)
{
  while (!s.empty() && (s.back() == '\0' || s.back() == ' '))
  {
    s.pop_back();
  }
  return s;
}
} // namespace

Handle &
Handle::operator=(Handle && other) noexcept
{
  if (this != &other)
  {
    Handle discard(m_Id);
    m_Id = other.m_Id;
    other.m_Id = -1;
  }
  return *this;
}

Handle::~Handle()
{
  if (m_Id < 0)
  {
    return;
  }
  switch (H5Iget_type(m_Id))
  {
    case H5I_FILE:
      H5Fclose(m_Id);
      break;
    case H5I_GROUP:
      H5Gclose(m_Id);
      break;
    case H5I_DATASET:
      H5Dclose(m_Id);
      break;
    case H5I_DATATYPE:
      H5Tclose(m_Id);
      break;
    case H5I_DATASPACE:
      H5Sclose(m_Id);
      break;
    case H5I_ATTR:
      H5Aclose(m_Id);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(m_Id);
      break;
    default:
      H5Oclose(m_Id);
      break;
  }
}

File
File::OpenForReading(const std::string & path)
{
  SilenceHDF5Errors();
  const std::string problem = ReadableFileProblem(path);
  if (!problem.empty())
  {
    itkGenericExceptionMacro(<< "Cannot open the HDF5 file " << path << ": " << problem);
  }
  if (H5Fis_hdf5(path.c_str()) <= 0)
  {
    itkGenericExceptionMacro(<< path << " is not an HDF5 file (or it is truncated)");
  }
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.IsValid())
  {
    itkGenericExceptionMacro(<< "Cannot read the HDF5 file " << path << " (is it truncated?)");
  }
  return File(std::move(file), path);
}

File
File::CreateInMemory(const std::string & path)
{
  SilenceHDF5Errors();
  // The core driver grows its buffer by this much at a time (patch datasets run to hundreds of MB).
  constexpr std::size_t growth = std::size_t{ 16 } << 20;
  Handle                access(H5Pcreate(H5P_FILE_ACCESS));
  if (!access.IsValid() || H5Pset_fapl_core(access.Get(), growth, /* backing_store */ false) < 0)
  {
    itkGenericExceptionMacro(<< "Cannot set up an in-memory HDF5 file for " << path);
  }
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.Get()));
  if (!file.IsValid())
  {
    itkGenericExceptionMacro(<< "Cannot create an in-memory HDF5 file for " << path);
  }
  return File(std::move(file), path);
}

void
File::SaveAs(const std::string & path, const std::string & what) const
{
  // The metadata cache holds object headers until a flush: the image must come after one.
  if (H5Fflush(Id(), H5F_SCOPE_GLOBAL) < 0)
  {
    itkGenericExceptionMacro(<< "Cannot assemble " << what << " (" << m_Path << ") in memory");
  }
  const ssize_t size = H5Fget_file_image(Id(), nullptr, 0);
  std::string   image(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
  if (size <= 0 || H5Fget_file_image(Id(), image.data(), image.size()) != size)
  {
    itkGenericExceptionMacro(<< "Cannot assemble " << what << " (" << m_Path << ") in memory");
  }
  AtomicFile::Write(path, image, what);
}

bool
File::Exists(const std::string & name) const
{
  std::string partial;
  std::size_t start = 0;
  while (start <= name.size())
  {
    const std::size_t slash = name.find('/', start);
    const std::string component = name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!component.empty())
    {
      partial += (partial.empty() ? "" : "/") + component;
      if (H5Lexists(Id(), partial.c_str(), H5P_DEFAULT) <= 0)
      {
        return false;
      }
    }
    if (slash == std::string::npos)
    {
      break;
    }
    start = slash + 1;
  }
  return true;
}

Handle
File::OpenObject(const std::string & name) const
{
  if (!Exists(name))
  {
    itkGenericExceptionMacro(<< m_Path << " has no \"" << name << "\"");
  }
  Handle object(H5Oopen(Id(), name.c_str(), H5P_DEFAULT));
  if (!object.IsValid())
  {
    itkGenericExceptionMacro(<< "Cannot open \"" << name << "\" in " << m_Path << " (is the file truncated?)");
  }
  return object;
}

bool
File::IsGroup(const std::string & name) const
{
  const Handle object = OpenObject(name);
  return H5Iget_type(object.Get()) == H5I_GROUP;
}

Handle
File::OpenDataset(const std::string & name) const
{
  if (!Exists(name))
  {
    itkGenericExceptionMacro(<< m_Path << " has no dataset \"" << name << "\"");
  }
  Handle dataset(H5Dopen2(Id(), name.c_str(), H5P_DEFAULT));
  if (!dataset.IsValid())
  {
    itkGenericExceptionMacro(<< "\"" << name << "\" in " << m_Path << " is not a readable dataset");
  }
  return dataset;
}

std::vector<hsize_t>
File::Shape(const std::string & name) const
{
  const Handle dataset = OpenDataset(name);
  const Handle space(H5Dget_space(dataset.Get()));
  const int    rank = H5Sget_simple_extent_ndims(space.Get());
  if (rank < 0)
  {
    itkGenericExceptionMacro(<< "Cannot read the shape of \"" << name << "\" in " << m_Path);
  }
  std::vector<hsize_t> shape(rank);
  H5Sget_simple_extent_dims(space.Get(), shape.data(), nullptr);
  return shape;
}

template <typename T>
std::vector<T>
File::ReadNumbers(const std::string & name, hid_t memoryType, std::vector<hsize_t> * shape) const
{
  const Handle dataset = OpenDataset(name);
  const Handle type(H5Dget_type(dataset.Get()));
  const auto   typeClass = H5Tget_class(type.Get());
  if (typeClass != H5T_INTEGER && typeClass != H5T_FLOAT)
  {
    itkGenericExceptionMacro(<< "\"" << name << "\" in " << m_Path << " does not hold numbers");
  }
  const Handle      space(H5Dget_space(dataset.Get()));
  const std::string what = "\"" + name + "\" in " + m_Path;
  const auto        count = CheckedCount(space.Get(), LeastValueBytes(type.Get()), StoredBytes(dataset.Get()), what);
  const auto        dimensions = Shape(name);
  std::vector<T>    values(count);
  if (count > 0 && H5Dread(dataset.Get(), memoryType, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
  {
    itkGenericExceptionMacro(<< "Cannot read \"" << name << "\" from " << m_Path << " (is the file truncated?)");
  }
  if (shape != nullptr)
  {
    *shape = dimensions;
  }
  return values;
}

std::vector<double>
File::ReadDoubles(const std::string & name, std::vector<hsize_t> * shape) const
{
  return ReadNumbers<double>(name, H5T_NATIVE_DOUBLE, shape);
}

std::vector<float>
File::ReadFloats(const std::string & name, std::vector<hsize_t> * shape) const
{
  return ReadNumbers<float>(name, H5T_NATIVE_FLOAT, shape);
}

std::vector<std::int64_t>
File::ReadIntegers(const std::string & name, std::vector<hsize_t> * shape) const
{
  return ReadNumbers<std::int64_t>(name, H5T_NATIVE_INT64, shape);
}

std::vector<std::uint8_t>
File::ReadBytes(const std::string & name, std::vector<hsize_t> * shape) const
{
  return ReadNumbers<std::uint8_t>(name, H5T_NATIVE_UINT8, shape);
}

namespace
{
/** Strings of a dataset or attribute, whichever \p read reads with a memory type. */
template <typename TRead>
std::vector<std::string>
ReadStringValues(hid_t storedType, std::size_t count, const TRead & read, const std::string & what)
{
  if (H5Tget_class(storedType) != H5T_STRING)
  {
    itkGenericExceptionMacro(<< what << " does not hold strings");
  }
  std::vector<std::string> result;
  if (count == 0)
  {
    return result;
  }
  if (H5Tis_variable_str(storedType) > 0)
  {
    Handle memoryType(H5Tcopy(H5T_C_S1));
    H5Tset_size(memoryType.Get(), H5T_VARIABLE);
    H5Tset_cset(memoryType.Get(), H5Tget_cset(storedType));
    std::vector<char *> pointers(count, nullptr);
    const bool          readAll = read(memoryType.Get(), pointers.data()) >= 0;
    // HDF5 allocates variable-length strings with malloc, also those of a read that failed
    // part-way (a damaged file): free them all either way.
    for (char * p : pointers)
    {
      if (readAll)
      {
        result.emplace_back(p != nullptr ? p : "");
      }
      std::free(p);
    }
    if (!readAll)
    {
      itkGenericExceptionMacro(<< "Cannot read " << what << " (is the file truncated?)");
    }
    return result;
  }
  // Read fixed-length strings in their stored form (no padding conversion, which can drop the
  // last character of a full-length NULLTERM string), then trim the padding here.
  const std::size_t size = H5Tget_size(storedType);
  if (size == 0 || count > MaximumValues() * sizeof(double) / size) // the same bytes as the limit's doubles
  {
    itkGenericExceptionMacro(
      << what << " declares " << count << " strings of " << size
      << " bytes: the file is damaged, or larger than this reader accepts "
         "(raise the limit with the environment variable SPATIALTRANSCRIPTOMICS_HDF5_MAX_VALUES)");
  }
  Handle            memoryType(H5Tcopy(storedType));
  std::vector<char> buffer(count * size);
  if (read(memoryType.Get(), buffer.data()) < 0)
  {
    itkGenericExceptionMacro(<< "Cannot read " << what << " (is the file truncated?)");
  }
  for (std::size_t i = 0; i < count; ++i)
  {
    result.push_back(Trimmed(std::string(buffer.data() + i * size, size)));
  }
  return result;
}
} // namespace

std::vector<std::string>
File::ReadStrings(const std::string & name) const
{
  const Handle      dataset = OpenDataset(name);
  const Handle      type(H5Dget_type(dataset.Get()));
  const Handle      space(H5Dget_space(dataset.Get()));
  const std::string what = "\"" + name + "\" in " + m_Path;
  const auto        count = CheckedCount(space.Get(), LeastValueBytes(type.Get()), StoredBytes(dataset.Get()), what);
  return ReadStringValues(
    type.Get(),
    count,
    [&](hid_t memoryType, void * buffer) {
      return H5Dread(dataset.Get(), memoryType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    },
    what);
}

bool
File::HasAttribute(const std::string & object, const std::string & attribute) const
{
  if (!Exists(object))
  {
    return false;
  }
  const Handle handle = OpenObject(object);
  return H5Aexists(handle.Get(), attribute.c_str()) > 0;
}

std::string
File::ReadStringAttribute(const std::string & object, const std::string & attribute) const
{
  const Handle handle = OpenObject(object);
  Handle       attr(H5Aopen(handle.Get(), attribute.c_str(), H5P_DEFAULT));
  if (!attr.IsValid())
  {
    itkGenericExceptionMacro(<< "\"" << object << "\" in " << m_Path << " has no attribute \"" << attribute << "\"");
  }
  const Handle      type(H5Aget_type(attr.Get()));
  const Handle      space(H5Aget_space(attr.Get()));
  const std::string what = "attribute \"" + attribute + "\" of \"" + object + "\" in " + m_Path;
  // A scalar's space has rank 0: one value.
  const auto count = CheckedCount(space.Get(), LeastValueBytes(type.Get()), H5Aget_storage_size(attr.Get()), what);
  const auto values = ReadStringValues(
    type.Get(), count, [&](hid_t memoryType, void * buffer) { return H5Aread(attr.Get(), memoryType, buffer); }, what);
  return values.empty() ? std::string() : values.front();
}

std::vector<double>
File::ReadDoubleAttribute(const std::string & object, const std::string & attribute) const
{
  const Handle handle = OpenObject(object);
  Handle       attr(H5Aopen(handle.Get(), attribute.c_str(), H5P_DEFAULT));
  if (!attr.IsValid())
  {
    itkGenericExceptionMacro(<< "\"" << object << "\" in " << m_Path << " has no attribute \"" << attribute << "\"");
  }
  const Handle        space(H5Aget_space(attr.Get()));
  const Handle        type(H5Aget_type(attr.Get()));
  std::vector<double> values(CheckedCount(space.Get(),
                                          LeastValueBytes(type.Get()),
                                          H5Aget_storage_size(attr.Get()),
                                          "attribute \"" + attribute + "\" of \"" + object + "\" in " + m_Path));
  if (H5Aread(attr.Get(), H5T_NATIVE_DOUBLE, values.data()) < 0)
  {
    itkGenericExceptionMacro(<< "Attribute \"" << attribute << "\" of \"" << object << "\" in " << m_Path
                             << " is not numeric");
  }
  return values;
}

std::vector<std::int64_t>
File::ReadIntegerAttribute(const std::string & object, const std::string & attribute) const
{
  std::vector<std::int64_t> values;
  for (const double v : ReadDoubleAttribute(object, attribute))
  {
    if (!(std::abs(v) <= 9007199254740992.0) || v != std::floor(v)) // 2^53: integers a double holds exactly
    {
      itkGenericExceptionMacro(<< "Attribute \"" << attribute << "\" of \"" << object << "\" in " << m_Path << " holds "
                               << v << ", not an integer");
    }
    values.push_back(static_cast<std::int64_t>(v));
  }
  return values;
}

void
File::CreateGroup(const std::string & name) const
{
  std::string partial;
  std::size_t start = 0;
  while (start < name.size())
  {
    const std::size_t slash = name.find('/', start);
    partial = name.substr(0, slash);
    if (!partial.empty() && H5Lexists(Id(), partial.c_str(), H5P_DEFAULT) <= 0)
    {
      const Handle properties = UntimedCreationProperties(H5P_GROUP_CREATE);
      Handle       group(H5Gcreate2(Id(), partial.c_str(), H5P_DEFAULT, properties.Get(), H5P_DEFAULT));
      if (!group.IsValid())
      {
        itkGenericExceptionMacro(<< "Cannot create the group \"" << partial << "\" in " << m_Path);
      }
    }
    if (slash == std::string::npos)
    {
      break;
    }
    start = slash + 1;
  }
}

void
File::WriteNumbers(const std::string & name, hid_t memoryType, hid_t fileType, const void * values,
                   const std::vector<hsize_t> & shape, bool compress) const
{
  const auto slash = name.rfind('/');
  if (slash != std::string::npos)
  {
    CreateGroup(name.substr(0, slash));
  }
  Handle      space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr));
  Handle      properties = UntimedCreationProperties(H5P_DATASET_CREATE);
  std::size_t count = 1;
  for (const auto d : shape)
  {
    count *= d;
  }
  if (compress && count > 0 && !shape.empty())
  {
    std::vector<hsize_t> chunk(shape);
    chunk[0] = 1;
    H5Pset_chunk(properties.Get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(properties.Get(), 4);
  }
  Handle dataset(H5Dcreate2(Id(), name.c_str(), fileType, space.Get(), H5P_DEFAULT, properties.Get(), H5P_DEFAULT));
  if (!dataset.IsValid() ||
      (count > 0 && H5Dwrite(dataset.Get(), memoryType, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0))
  {
    itkGenericExceptionMacro(<< "Cannot write \"" << name << "\" to " << m_Path << " (disk full?)");
  }
}

void
File::WriteFloats(const std::string & name, const std::vector<float> & values, const std::vector<hsize_t> & shape) const
{
  WriteNumbers(name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, values.data(), shape, false);
}

void
File::WriteDoubles(const std::string & name, const std::vector<double> & values,
                   const std::vector<hsize_t> & shape) const
{
  WriteNumbers(name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, values.data(), shape, false);
}

void
File::WriteIntegers(const std::string & name, const std::vector<std::int64_t> & values,
                    const std::vector<hsize_t> & shape) const
{
  WriteNumbers(name, H5T_NATIVE_INT64, H5T_STD_I64LE, values.data(), shape, false);
}

void
File::WriteInt32s(const std::string & name, const std::vector<std::int32_t> & values,
                  const std::vector<hsize_t> & shape) const
{
  WriteNumbers(name, H5T_NATIVE_INT32, H5T_STD_I32LE, values.data(), shape, false);
}

void
File::WriteBytes(const std::string & name, const std::uint8_t * values, const std::vector<hsize_t> & shape) const
{
  WriteNumbers(name, H5T_NATIVE_UINT8, H5T_STD_U8LE, values, shape, true);
}

void
File::WriteStrings(const std::string & name, const std::vector<std::string> & values,
                   const std::vector<hsize_t> & shape) const
{
  std::size_t size = 1;
  for (const auto & v : values)
  {
    size = std::max(size, v.size());
  }
  std::vector<char> buffer(values.size() * size, '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    std::memcpy(buffer.data() + i * size, values[i].data(), values[i].size());
  }
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.Get(), size);
  H5Tset_strpad(type.Get(), H5T_STR_NULLPAD);
  WriteNumbers(name, type.Get(), type.Get(), buffer.data(), shape, false);
}

namespace
{
/** h5py's str: variable-length, UTF-8. */
Handle
TextType()
{
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.Get(), H5T_VARIABLE);
  H5Tset_cset(type.Get(), H5T_CSET_UTF8);
  return type;
}

std::vector<const char *>
Pointers(const std::vector<std::string> & values)
{
  std::vector<const char *> pointers;
  for (const auto & v : values)
  {
    pointers.push_back(v.c_str());
  }
  return pointers;
}
} // namespace

void
File::WriteTextStrings(const std::string & name, const std::vector<std::string> & values,
                       const std::vector<hsize_t> & shape) const
{
  const auto slash = name.rfind('/');
  if (slash != std::string::npos)
  {
    CreateGroup(name.substr(0, slash));
  }
  const Handle type = TextType();
  Handle       space(shape.empty() ? H5Screate(H5S_SCALAR)
                             : H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr));
  const Handle properties = UntimedCreationProperties(H5P_DATASET_CREATE);
  Handle dataset(H5Dcreate2(Id(), name.c_str(), type.Get(), space.Get(), H5P_DEFAULT, properties.Get(), H5P_DEFAULT));
  const auto pointers = Pointers(values);
  if (!dataset.IsValid() ||
      (!pointers.empty() && H5Dwrite(dataset.Get(), type.Get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0))
  {
    itkGenericExceptionMacro(<< "Cannot write \"" << name << "\" to " << m_Path << " (disk full?)");
  }
}

void
File::WriteTextAttribute(const std::string & object, const std::string & attribute, const std::string & value) const
{
  const Handle handle = OpenObject(object);
  const Handle type = TextType();
  Handle       space(H5Screate(H5S_SCALAR));
  Handle       attr(H5Acreate2(handle.Get(), attribute.c_str(), type.Get(), space.Get(), H5P_DEFAULT, H5P_DEFAULT));
  const char * text = value.c_str();
  if (!attr.IsValid() || H5Awrite(attr.Get(), type.Get(), &text) < 0)
  {
    itkGenericExceptionMacro(<< "Cannot write attribute \"" << attribute << "\" to " << m_Path);
  }
}

void
File::WriteTextArrayAttribute(const std::string & object, const std::string & attribute,
                              const std::vector<std::string> & values) const
{
  const Handle  handle = OpenObject(object);
  const hsize_t count = values.size();
  Handle        space(H5Screate_simple(1, &count, nullptr));
  const Handle  type = values.empty() ? Handle(H5Tcopy(H5T_IEEE_F64LE)) : TextType();
  Handle        attr(H5Acreate2(handle.Get(), attribute.c_str(), type.Get(), space.Get(), H5P_DEFAULT, H5P_DEFAULT));
  const auto    pointers = Pointers(values);
  if (!attr.IsValid() || (!values.empty() && H5Awrite(attr.Get(), type.Get(), pointers.data()) < 0))
  {
    itkGenericExceptionMacro(<< "Cannot write attribute \"" << attribute << "\" to " << m_Path);
  }
}

void
File::WriteStringAttribute(const std::string & object, const std::string & attribute, const std::string & value) const
{
  const Handle handle = OpenObject(object);
  Handle       type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.Get(), value.size() + 1); // with its terminating NUL, as NULLTERM strings are
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(H5Acreate2(handle.Get(), attribute.c_str(), type.Get(), space.Get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.IsValid() || H5Awrite(attr.Get(), type.Get(), value.c_str()) < 0)
  {
    itkGenericExceptionMacro(<< "Cannot write attribute \"" << attribute << "\" to " << m_Path);
  }
}

void
File::WriteDoubleAttribute(const std::string & object, const std::string & attribute, double value) const
{
  const Handle handle = OpenObject(object);
  Handle       space(H5Screate(H5S_SCALAR));
  Handle       attr(H5Acreate2(handle.Get(), attribute.c_str(), H5T_IEEE_F64LE, space.Get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.IsValid() || H5Awrite(attr.Get(), H5T_NATIVE_DOUBLE, &value) < 0)
  {
    itkGenericExceptionMacro(<< "Cannot write attribute \"" << attribute << "\" to " << m_Path);
  }
}

void
File::WriteIntegerAttribute(const std::string & object, const std::string & attribute, std::int64_t value) const
{
  const Handle handle = OpenObject(object);
  Handle       space(H5Screate(H5S_SCALAR));
  Handle       attr(H5Acreate2(handle.Get(), attribute.c_str(), H5T_STD_I64LE, space.Get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr.IsValid() || H5Awrite(attr.Get(), H5T_NATIVE_INT64, &value) < 0)
  {
    itkGenericExceptionMacro(<< "Cannot write attribute \"" << attribute << "\" to " << m_Path);
  }
}

} // end namespace hdf5
} // end namespace itk
