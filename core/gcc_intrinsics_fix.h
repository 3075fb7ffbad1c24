// Force-included first into every C++ file (CMakeLists.txt, `-include`), so
// that it is the first place where GCC's x86 intrinsic headers are read.
//
// Why: GCC 12.1 and 12.2 (Debian 12 ships 12.2) warn in their own headers.
// `_mm512_undefined_ps()` and its kin are written `__m512 __Y = __Y;
// return __Y;`, the self-initialisation idiom that means "any value"; once
// an AVX-512 shuffle such as `_mm512_unpacklo_ps` (which passes that value as
// the ignored merge source) is inlined into Eigen's GEMM packing or into ours,
// -Wmaybe-uninitialized reports `'__Y' may be used uninitialized` there
// (GCC bug 105593; GCC 13 and 12.3 put the same pragma into the headers).
// No value is read: every lane of the merge source is masked off (mask -1).
//
// A `#pragma GCC diagnostic` applies to the source lines it surrounds, and an
// inlined function's warning is judged at the header line it comes from. So
// this silences those header lines only: a real uninitialised read in our
// code or in Eigen's is still an error under PF_WERROR.
#pragma once
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13 && (defined(__x86_64__) || defined(__i386__))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif
