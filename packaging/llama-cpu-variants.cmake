# Included into llama-cpp-python's own CMake project (CMAKE_PROJECT_llama_cpp_INCLUDE, set by
# build-llama-portable.sh). With GGML_BACKEND_DL and GGML_CPU_ALL_VARIANTS, ggml builds its CPU
# backend once per instruction-set level (ggml-cpu-x64, -sse42, -haswell, -skylakex, ...) as
# modules loaded at run time, the best the CPU supports chosen then; llama-cpp-python installs
# only the targets it names (ggml-cpu, not the variants), so this installs the variants beside
# libllama in the wheel's llama_cpp/lib, once the whole project has been read.
#
# It also tunes each x86 variant for the first CPU of its level (-mtune: instruction
# scheduling only, never an instruction the level lacks). ggml gives a variant only its -m
# flags, so GCC tunes for "generic": on a Zen 3 EPYC the AVX2 variant then processed prompts
# at 0.89-0.90 of a -march=native build, and at 0.99 tuned for Haswell
# (benchmarks/portable_build.py). Where the compiler lacks a tuning, the next one named (GCC
# 12 has no znver4), else none.
include_guard(GLOBAL)

set(HEARTH_CPU_TUNING
    sse42=nehalem sandybridge=sandybridge ivybridge=ivybridge piledriver=bdver2 haswell=haswell
    skylakex=skylake-avx512 cannonlake=cannonlake cascadelake=cascadelake icelake=icelake-server
    cooperlake=cooperlake zen4=znver4,znver3 alderlake=alderlake sapphirerapids=sapphirerapids)

function(hearth_tune_cpu_variant target tag)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        return()  # MSVC has no -mtune
    endif()
    foreach(pair IN LISTS HEARTH_CPU_TUNING)
        string(REPLACE "=" ";" pair "${pair}")
        list(GET pair 0 name)
        list(GET pair 1 cpus)
        if(NOT name STREQUAL tag)
            continue()
        endif()
        include(CheckCXXCompilerFlag)
        string(REPLACE "," ";" cpus "${cpus}")
        foreach(cpu IN LISTS cpus)
            string(MAKE_C_IDENTIFIER "HEARTH_HAS_MTUNE_${cpu}" known)
            check_cxx_compiler_flag("-mtune=${cpu}" ${known})
            if(${known})
                target_compile_options(${target} PRIVATE "-mtune=${cpu}")
                message(STATUS "hearth: ${target} tuned for ${cpu}")
                return()
            endif()
        endforeach()
    endforeach()
endfunction()

function(hearth_install_cpu_variants)
    get_property(targets DIRECTORY "${CMAKE_SOURCE_DIR}/vendor/llama.cpp/ggml/src" PROPERTY BUILDSYSTEM_TARGETS)
    set(found "")
    foreach(target IN LISTS targets)
        get_target_property(type ${target} TYPE)  # not the -feats object libraries
        if(type MATCHES "MODULE_LIBRARY|SHARED_LIBRARY" AND target MATCHES "^ggml-cpu-(.+)$")
            hearth_tune_cpu_variant(${target} "${CMAKE_MATCH_1}")
            llama_cpp_python_install_target(${target})
            list(APPEND found ${target})
        endif()
    endforeach()
    if(NOT found)
        message(FATAL_ERROR "hearth: no ggml-cpu-* variants to install (GGML_CPU_ALL_VARIANTS off?)")
    endif()
    message(STATUS "hearth: installing CPU variants ${found}")
endfunction()

cmake_language(DEFER CALL hearth_install_cpu_variants)
