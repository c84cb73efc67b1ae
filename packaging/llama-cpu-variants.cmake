# Included into llama-cpp-python's own CMake project (CMAKE_PROJECT_llama_cpp_INCLUDE, set by
# build-llama-portable.sh). With GGML_BACKEND_DL and GGML_CPU_ALL_VARIANTS, ggml builds its CPU
# backend once per instruction-set level (ggml-cpu-x64, -sse42, -haswell, -skylakex, ...) as
# modules loaded at run time, the best the CPU supports chosen then; llama-cpp-python installs
# only the targets it names (ggml-cpu, not the variants), so this installs the variants beside
# libllama in the wheel's llama_cpp/lib, once the whole project has been read.
include_guard(GLOBAL)

function(hearth_install_cpu_variants)
    get_property(targets DIRECTORY "${CMAKE_SOURCE_DIR}/vendor/llama.cpp/ggml/src" PROPERTY BUILDSYSTEM_TARGETS)
    set(found "")
    foreach(target IN LISTS targets)
        if(target MATCHES "^ggml-cpu-")
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
