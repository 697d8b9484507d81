# Makes libipcx.a link beside other Rust static libraries (cmake -P, run by the build).
#
# Cargo's staticlib holds ipcx and its own copy of the Rust standard library, whose global
# symbols (rust_eh_personality, std's and compiler-builtins' functions) collide with those of
# any other Rust static library in the same program. This script links the archive into one
# relocatable object (keeping only what the ipcx_* functions reach), makes every symbol
# but ipcx_* local to it, and archives that object:
#   OUT            the archive with debug info (the build tree's lib/)
#   OUT_STRIPPED   the same without debug info (what is installed)
# Inputs: IN (cargo's libipcx.a), CC and CC_FLAGS (the C compiler drives the partial link,
# so a cross toolchain's compiler picks the right linker and emulation), NM, OBJCOPY,
# READELF, AR.
cmake_minimum_required(VERSION 3.25)
foreach(v IN ITEMS IN OUT OUT_STRIPPED CC NM OBJCOPY READELF AR)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "ipcxStaticArchive.cmake: -D${v}= is required")
  endif()
endforeach()

get_filename_component(_dir "${OUT}" DIRECTORY)
set(_work "${_dir}/ipcx-static.tmp")
file(REMOVE_RECURSE "${_work}")
file(MAKE_DIRECTORY "${_work}")

# The standard library's objects carry LLVM bitcode (.llvmbc), which a linker plugin of an
# older LLVM (LLVMgold in /usr/lib/bfd-plugins, loaded by ld on its own) fails to read;
# nothing needs it: drop it first.
execute_process(COMMAND "${OBJCOPY}" --remove-section=.llvmbc --remove-section=.llvmcmd
                        "${IN}" "${_work}/in.a" COMMAND_ERROR_IS_FATAL ANY)

# The roots of the partial link: every ipcx_ function the archive defines.
execute_process(COMMAND "${NM}" -g --defined-only "${_work}/in.a"
                OUTPUT_VARIABLE _nm ERROR_QUIET COMMAND_ERROR_IS_FATAL ANY)
string(REGEX MATCHALL "[^\n]+" _lines "${_nm}")
set(_roots "")
foreach(l IN LISTS _lines)
  if(l MATCHES "^[0-9a-fA-F]+ [TDRB] (ipcx_[A-Za-z0-9_]+)$")
    list(APPEND _roots "-Wl,-u,${CMAKE_MATCH_1}")
  endif()
endforeach()
list(LENGTH _roots _n)
if(_n LESS 10)
  message(FATAL_ERROR "ipcxStaticArchive.cmake: only ${_n} ipcx_ functions in ${IN}")
endif()

separate_arguments(_cc_flags UNIX_COMMAND "${CC_FLAGS}")
# -r: a relocatable object; --gc-sections drops what no ipcx_ function reaches (sections
# the linker always keeps, such as .init_array and .eh_frame, stay).
execute_process(
  COMMAND "${CC}" ${_cc_flags} -r -nostdlib -Wl,--gc-sections ${_roots}
          -Wl,--whole-archive "${_work}/in.a" -Wl,--no-whole-archive -o "${_work}/ipcx.o"
  COMMAND_ERROR_IS_FATAL ANY)
# Every defined global but ipcx_* becomes local; undefined references (libc, libgcc) stay.
# COMDAT groups (DW.ref.rust_eh_personality, the personality routine's pointer) are merged
# by name across the whole link, local or not: the linker would keep this object's copy and
# drop the other Rust library's, leaving its references undefined. They are renamed ipcx.*.
execute_process(COMMAND "${READELF}" -g -W "${_work}/ipcx.o"
                OUTPUT_VARIABLE _groups COMMAND_ERROR_IS_FATAL ANY)
string(REGEX MATCHALL "COMDAT group section [^\n]*\\[([^]\n]+)\\] contains" _sigs "${_groups}")
set(_renames "")
foreach(g IN LISTS _sigs)
  string(REGEX REPLACE ".*\\[([^]]+)\\] contains$" "\\1" _sig "${g}")
  if(NOT _sig MATCHES "^ipcx_" AND NOT "--redefine-sym=${_sig}=ipcx.${_sig}" IN_LIST _renames)
    list(APPEND _renames "--redefine-sym=${_sig}=ipcx.${_sig}")
  endif()
endforeach()
execute_process(
  COMMAND "${OBJCOPY}" --wildcard "--keep-global-symbol=ipcx_*" ${_renames} "${_work}/ipcx.o"
  COMMAND_ERROR_IS_FATAL ANY)

# Check: nothing but ipcx_* is defined globally (weak symbols included), no COMDAT group
# keeps a name another object could have.
execute_process(COMMAND "${READELF}" -g -W "${_work}/ipcx.o"
                OUTPUT_VARIABLE _groups COMMAND_ERROR_IS_FATAL ANY)
string(REGEX MATCHALL "COMDAT group section [^\n]*\\[([^]\n]+)\\] contains" _sigs "${_groups}")
foreach(g IN LISTS _sigs)
  if(NOT g MATCHES "\\[ipcx[._]")
    message(FATAL_ERROR "ipcxStaticArchive.cmake: COMDAT group left with a foreign name: ${g}")
  endif()
endforeach()
execute_process(COMMAND "${NM}" -g --defined-only "${_work}/ipcx.o"
                OUTPUT_VARIABLE _nm COMMAND_ERROR_IS_FATAL ANY)
string(REGEX MATCHALL "[^\n]+" _lines "${_nm}")
foreach(l IN LISTS _lines)
  if(NOT l MATCHES " ipcx_[A-Za-z0-9_]+$")
    message(FATAL_ERROR "ipcxStaticArchive.cmake: global symbol left in libipcx.a: ${l}")
  endif()
endforeach()

file(REMOVE "${OUT}" "${OUT_STRIPPED}")
execute_process(COMMAND "${AR}" qcs "${OUT}" "${_work}/ipcx.o" COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${OBJCOPY}" --strip-debug --remove-section=.comment "${_work}/ipcx.o"
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${AR}" qcs "${OUT_STRIPPED}" "${_work}/ipcx.o" COMMAND_ERROR_IS_FATAL ANY)
file(REMOVE_RECURSE "${_work}")
