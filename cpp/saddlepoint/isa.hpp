// The instruction-set level a kernel translation unit is compiled for.
//
// The kernels are compiled once per level (x86-64-v2, -v3, -v4 in a portable build; one level,
// "native", when tuned to the building machine), each in its own translation unit with its own
// -march, and the best level the CPU runs is chosen at import (dispatch/levels.hpp). Templates
// and inline functions instantiated in several such units would be merged by the linker into
// one copy, possibly an AVX-512 one that an older CPU cannot run. So every kernel header puts
// its code in `inline namespace SADDLEPOINT_ISA` (the level's name, e.g. x86_64_v3): each
// level's instantiations are distinct symbols, while the sources still say saddlepoint::adam_step.
// Eigen's templates are renamed per level the same way, through the macro below (Eigen's packet
// size differs by level, so one merged copy would not even be correct). What is left shared,
// the C++ standard library's inline functions and the plain-data headers (optim/hyper.hpp,
// monitor/sums.hpp, ...), resolves to the first copy in link order, the baseline bindings';
// tests/test_isa_dispatch.py disassembles the extension and proves that no function the
// bindings or the x86-64-v2 level can reach, outside the v3/v4 namespaces, holds an AVX,
// AVX-512, BMI or MOVBE instruction (GCC's local clones of library functions made inside a
// v3/v4 unit, reachable only from there, are allowed).
#pragma once

#ifndef SADDLEPOINT_ISA
#error "kernel headers are compiled only in a level's translation units (cpp/saddlepoint/dispatch/level_*.cpp, which CMake compiles with -DSADDLEPOINT_ISA=<level>); the bindings see saddlepoint/dispatch/levels.hpp"
#endif

#define SADDLEPOINT_CAT_(a, b) a##b
#define SADDLEPOINT_CAT(a, b) SADDLEPOINT_CAT_(a, b)
#define SADDLEPOINT_ISA_BEGIN inline namespace SADDLEPOINT_ISA {
#define SADDLEPOINT_ISA_END }

#ifdef EIGEN_WORLD_VERSION
#error "saddlepoint/isa.hpp must come before any Eigen header: Eigen's namespace is renamed per level"
#endif
// Eigen's namespace, per level: `Eigen::Matrix` here is Eigen_x86_64_v3::Matrix. The rename is a
// token substitution, so every use in Eigen's headers and ours follows; #include <Eigen/...>
// lines are not macro-expanded and still find the headers.
#define Eigen SADDLEPOINT_CAT(Eigen_, SADDLEPOINT_ISA)
