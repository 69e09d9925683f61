#!/usr/bin/env python3
"""SWIG code that gives the module's plain structs (settings, results) their fields in Python.

ITK's wrapping generator (igenerator) wraps methods only: a struct's public data members never
reach Python ("Member variables are not supported"), and assigning one there only adds a Python
attribute that C++ never sees. This script reads the struct definitions from a public header and
writes, for each field of a type SWIG converts, a getter, a setter and a Python property of the
field's name, so `settings.NumberOfSteps = 4` and `settings.Pretraining.Training.BatchSize = 4`
change the C++ object. A field of struct type is returned by reference (the owner is kept alive
by the returned object). Fields of other types are listed in a comment of the output and left out.

Usage: GenerateFieldProperties.py INCLUDE_DIR STRUCT [STRUCT ...]   (the SWIG text goes to stdout)
"""
import glob
import os
import re
import sys

# Spelled as the SWIG templates ITK's pyBase.i declares (size_t is unsigned long on LP64).
SCALARS = {
    "bool": "bool", "int": "int", "unsigned int": "unsigned int", "double": "double", "float": "float",
    "long": "long", "unsigned long": "unsigned long", "unsigned long long": "unsigned long long",
    "std::size_t": "unsigned long", "size_t": "unsigned long", "std::uint32_t": "unsigned int",
    "std::int64_t": "long", "std::uint64_t": "unsigned long", "uint64_t": "unsigned long",
    "std::uint8_t": "unsigned char", "SizeValueType": "unsigned long",
}
VECTOR_ELEMENTS = {"double": "double", "float": "float", "int": "int", "unsigned int": "unsigned int",
                   "std::size_t": "unsigned long", "std::string": "std::string", "std::uint8_t": "unsigned char"}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def struct_body(text, name):
    match = re.search(r"\bstruct\s+(?:\w+_EXPORT\s+)?" + name + r"\s*\{", text)
    if not match:
        return None
    depth, start = 1, match.end()
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i]
    raise SystemExit(f"GenerateFieldProperties: struct {name} is not closed")


def statements(body):
    """Top-level statements of a struct body (initialisers and inline bodies stay inside)."""
    depth, current = 0, ""
    for c in body:
        if c in "{(":
            depth += 1
        elif c in "})":
            depth -= 1
            if depth == 0 and c == "}" and "(" in current:  # an inline method body ends the statement
                yield current + c
                current = ""
                continue
        if c == ";" and depth == 0:
            yield current
            current = ""
        else:
            current += c


def fields(body):
    for statement in statements(body):
        s = " ".join(statement.split())
        if not s or "(" in s.split("{")[0] or re.match(r"(static|using|friend|enum|struct|template|typedef)\b", s):
            continue
        declaration = re.split(r"[{=]", s)[0].strip()
        match = re.match(r"(.+?)\s*\b(\w+)$", declaration)
        if match:
            yield match.group(1).strip(), match.group(2)


def swig_type(type_name, structs, classes):
    """(C++ type for the getter, setter argument, how it is returned) or None."""
    if type_name in SCALARS:
        t = SCALARS[type_name]
        return t, t, "value"
    if type_name == "std::string":
        return "std::string", "const std::string &", "value"
    vector = re.fullmatch(r"std::vector<\s*(.+?)\s*>", type_name)
    if vector and vector.group(1) in VECTOR_ELEMENTS:
        t = f"std::vector< {VECTOR_ELEMENTS[vector.group(1)]} >"
        return t, f"const {t} &", "value"
    # Wrapped ITK types by the names the wrapping's SWIG interfaces declare them under (itkX).
    if type_name in ("Array2D<double>", "itk::Array2D<double>"):
        return "itkArray2DD", "const itkArray2DD &", "value"
    plain = type_name.replace("itk::", "")
    pointer = re.fullmatch(r"(\w+)::Pointer", plain)
    if pointer and pointer.group(1) in classes:  # an ITK object held by smart pointer
        return f"itk{pointer.group(1)} *", f"itk{pointer.group(1)} *", "pointer"
    if plain in structs:
        return f"itk{plain} *", f"const itk{plain} &", "reference"
    return None


def main(include_dir, names):
    headers = {path: strip_comments(open(path).read()) for path in sorted(glob.glob(os.path.join(include_dir, "*.h")))}
    known = {name for text in headers.values() for name in re.findall(r"\bstruct\s+(?:\w+_EXPORT\s+)?(\w+)\s*\{", text)}
    classes = {name for text in headers.values() for name in re.findall(r"\bclass\s+(?:\w+_EXPORT\s+)?(\w+)\s*:", text)}
    out = [f"// Field properties of {', '.join(names)} (wrapping/GenerateFieldProperties.py)"]
    typedefs = set()  # the C++ side of the itkX names used below (another submodule may wrap X)
    for name in names:
        bodies = [body for body in (struct_body(text, name) for text in headers.values()) if body is not None]
        if len(bodies) != 1:
            raise SystemExit(f"GenerateFieldProperties: {len(bodies)} definitions of struct {name} in {include_dir}")
        swig_class = "itk" + name
        lines, python, skipped = [], [], []
        for type_name, field in fields(bodies[0]):
            converted = swig_type(type_name, known, classes)
            if converted is None:
                skipped.append(f"{type_name} {field}")
                continue
            get_type, set_type, how = converted
            for wrapped in re.findall(r"\bitk(\w+)", get_type):
                typedefs.add(("itk::Array2D<double>" if wrapped == "Array2DD" else "itk::" + wrapped, "itk" + wrapped))
            getter = {"reference": f"&$self->{field}", "pointer": f"$self->{field}.GetPointer()"}.get(how, f"$self->{field}")
            lines.append(f"  {get_type} _get_{field}() {{ return {getter}; }}")
            lines.append(f"  void _set_{field}({set_type} value) {{ $self->{field} = value; }}")
            if how == "reference":
                python.append(f"    {field} = property(_owned(_get_{field}), _set_{field})")
            else:
                python.append(f"    {field} = property(_get_{field}, _set_{field})")
        if skipped:
            out.append(f"// {name}: not reachable from Python (no SWIG conversion): {'; '.join(skipped)}")
        out.append(f"%extend {swig_class} {{")
        out.extend(lines)
        out.append("  %pythoncode %{")
        if any("_owned(" in line for line in python):
            out.append("    def _owned(getter):")
            out.append("        def get(self):")
            out.append("            part = getter(self)")
            out.append("            part._owner = self  # the part lives in its owner's memory")
            out.append("            return part")
            out.append("        return get")
        out.extend(python)
        out.append("  %}")
        out.append("}")
    if typedefs:
        out.insert(1, "%{\n" + "\n".join(f"typedef {cxx} {name};" for cxx, name in sorted(typedefs)) + "\n%}")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2:])
